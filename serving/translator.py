"""One direction's translation pipeline: text in, translation out.

Per request: clean the input → segment it into sentences → mask spans → look each
sentence up in the LRU cache → send the misses to the micro-batcher (whose workers run
the engine) → post-process → restore spans → reassemble with the source's whitespace →
apply the blocked-words policy. What is language-specific comes from the direction's
:class:`~text.languages.Language` profiles.

The model loads in a background thread so the process answers liveness probes at once;
:attr:`Translator.ready` turns true only after a warm-up translation succeeded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from config import Settings
from engine import GenerationOptions, ModelLoadError, read_manifest
from serving.batcher import MicroBatcher, current_client
from serving.cache import TranslationCache
from serving.engines import EngineFactory, TranslationEngine, load_engine
from serving.errors import (
    DeadlineExceeded,
    NotReady,
    ServiceError,
    TooManySentences,
    TranslationFailed,
)
from serving.finishing import Finisher
from serving.health import Health, Status
from serving.jobs import Job, Occurrence, RequestStats, SentenceGroup, group_sentences
from serving.policy import BlockedWords
from text.languages import ZH_EN, Direction
from text.normalize import clean_input
from text.postprocess import strip_debris
from text.segment import Document, Piece, fit_to_model, segment
from text.spans import SpanGuard
from text.typography import CJK_PUNCTUATION_RE, english_separators, typeset

logger = logging.getLogger(__name__)

# Beam width of the retry when a span got lost (capped by the max_beam_size setting).
FALLBACK_BEAM = 4
WARMUP_TIMEOUT_S = 120.0

BatchObserver = Callable[[int, float], None]


def manifest_direction(model_path: Path) -> Direction:
    """The direction a model directory's manifest declares (zh→en if it cannot be read:
    loading then fails with the manifest's own error)."""
    try:
        manifest = read_manifest(model_path)
    except ModelLoadError:
        return ZH_EN
    return Direction.of(manifest.source_lang, manifest.target_lang)


def _close_engine(engine: TranslationEngine) -> None:
    """Release what *engine* holds (worker processes), if it holds anything."""
    close = getattr(engine, "close", None)
    if callable(close):
        close()


class Translator:
    """Thread-safe pipeline owning one direction's engine, batcher and cache."""

    def __init__(
        self,
        settings: Settings,
        model_path: Path | None = None,
        engine_factory: EngineFactory = load_engine,
        on_batch: BatchObserver | None = None,
        direction: Direction | None = None,
    ) -> None:
        self.settings = settings
        self.model_path = model_path or settings.model_path
        self.direction = direction or manifest_direction(self.model_path)
        self.cache = TranslationCache(settings.cache_size)
        self._factory = engine_factory
        self._on_batch = on_batch
        self._blocked = BlockedWords(settings.blocked_words)
        self._engine: TranslationEngine | None = None
        self._batcher: MicroBatcher | None = None
        self._guard: SpanGuard | None = None
        self._finisher: Finisher | None = None
        self._status = Status.STARTING
        self._error: str | None = None
        self._ready = threading.Event()
        self.default_options = GenerationOptions(beam_size=settings.default_beam_size)
        self._fallback_beam = min(FALLBACK_BEAM, settings.max_beam_size)

    # --- lifecycle -----------------------------------------------------------------

    def start(self, background: bool = True) -> None:
        """Load the model and warm up, in a thread unless *background* is False."""
        if background:
            threading.Thread(target=self._load, name="model-loader", daemon=True).start()
        else:
            self._load()

    def _load(self) -> None:
        self._status = Status.LOADING
        try:
            engine = self._factory(self.settings, self.model_path)
            served = Direction.of(engine.source_lang, engine.target_lang)
            if served != self.direction:
                _close_engine(engine)
                raise ModelLoadError(f"the model translates {served}, expected {self.direction}")
            self._engine = engine
            target = self.direction.target
            self._guard = SpanGuard(
                engine.span_mode,
                engine.preprocess,
                self.direction.source.find_spans,
                english_separators if target.ascii_punctuation else None,
            )
            self._finisher = Finisher(self._guard, self.direction, self._fallback_beam)
            self._batcher = MicroBatcher(
                self._engine_call,
                self.settings.max_batch_size,
                self.settings.max_wait_ms,
                self.settings.queue_size,
                name=f"batcher-{self.direction}",
                on_batch=self._on_batch,
                workers=self.settings.batch_workers,
                client_share=self.settings.client_queue_share,
            )
            self._batcher.start()
            self._warm_up()
        except Exception as exc:
            self._status = Status.FAILED
            self._error = f"{type(exc).__name__}: {exc}"
            logger.exception("model loading failed (%s)", self.direction)
            return
        self._status = Status.READY
        self._ready.set()

    def _warm_up(self) -> None:
        # Through the whole path (not the engine alone): the first real request must
        # not pay for lazy initialisation anywhere.
        text = self.direction.source.warmup
        started = time.perf_counter()
        job = Job.within(self.default_options, WARMUP_TIMEOUT_S, use_cache=False)
        result = self._translate_texts([text], job)
        logger.info(
            "warm-up %s %r -> %r in %.0f ms",
            self.direction,
            text,
            result[0],
            (time.perf_counter() - started) * 1000,
        )

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until ready (True) or until *timeout* or a load failure (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if self._status is Status.FAILED:
                return False
            if deadline is not None and time.monotonic() > deadline:
                return False
        return True

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self._batcher is not None and self._batcher.alive

    @property
    def status(self) -> Status:
        return self._status

    @property
    def error(self) -> str | None:
        """Why loading failed, if it did."""
        return self._error

    @property
    def model_id(self) -> str:
        return self._engine.model_id if self._engine else str(self.model_path)

    @property
    def queue_depth(self) -> int:
        """Sentences waiting for the engine."""
        return self._batcher.depth if self._batcher else 0

    def health(self) -> Health:
        """A snapshot of this translator for the probes."""
        batcher = self._batcher
        return Health(
            status=self._status,
            direction=self.direction.key,
            model=self.model_id,
            error=self._error,
            queue_depth=self.queue_depth,
            worker_alive=bool(batcher and batcher.alive),
            batches=batcher.batches if batcher else 0,
            cache=self.cache.stats(),
        )

    def close(self) -> None:
        """Stop taking work, finish what is queued, stop the workers."""
        if self._batcher is not None:
            self._batcher.shutdown(wait=True, timeout=self.settings.graceful_timeout_s)
        if self._engine is not None:
            _close_engine(self._engine)
        self._ready.clear()
        self._status = Status.STOPPED

    # --- translation ---------------------------------------------------------------

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions | None = None,
        timeout: float | None = None,
        use_cache: bool = True,
        client: Hashable = None,
    ) -> tuple[list[str], RequestStats]:
        """Translate each text; raise a ServiceError subclass on any failure.

        ``use_cache=False`` neither reads nor fills the cache (a client's
        ``Cache-Control: no-cache``; load tests use it to measure the model path).
        *client* (default: the batcher's ``current_client``, which the web layer sets per
        request) is whose share of the queue the sentences take.
        """
        if client is not None:
            token = current_client.set(client)
            try:
                return self.translate(texts, options, timeout, use_cache)
            finally:
                current_client.reset(token)
        if not self.ready:
            if self._status is Status.FAILED:
                # The cause (paths, library text) is for the log and operators, not
                # clients; a failed load does not fix itself, so no Retry-After.
                raise NotReady("The model failed to load; see the service log.")
            raise NotReady("The model is still loading; retry shortly.", retry_after=5)
        assert self._batcher is not None
        self._batcher.check_room()  # a client holding its whole share costs no more work
        seconds = timeout or self.settings.request_timeout_s
        job = Job.within(options or self.default_options, seconds, use_cache)
        results = self._translate_texts(texts, job)
        return [self._blocked.check(r) for r in results], job.stats

    def _prepare(self, text: str) -> str | Document:
        """Return the final answer for texts the model need not see, else a Document."""
        cleaned = clean_input(text)
        if not cleaned.strip():
            return ""
        source = self.direction.source
        if not source.has_script(cleaned):
            # Nothing in the source language (numbers, emoji, the target's own words):
            # the model is not asked, but CJK punctuation still gets the target's form.
            return self._typeset_lines(text)
        assert self._engine is not None
        limit = min(self._engine.max_source_tokens, self.settings.max_sentence_tokens)
        brackets = self.direction.target.tag_brackets
        doc = segment(cleaned, source.find_spans, brackets)
        return fit_to_model(doc, self._engine.count_tokens, limit)

    def _typeset_lines(self, text: str) -> str:
        if not self.direction.target.ascii_punctuation or not CJK_PUNCTUATION_RE.search(text):
            return text
        lines = []
        for line in text.split("\n"):
            body = line.strip()
            lines.append(line[: line.find(body)] + typeset(body, body) if body else line)
        return "\n".join(lines)

    def _translate_texts(self, texts: Sequence[str], job: Job) -> list[str]:
        prepared = [self._prepare(t) for t in texts]
        pieces = [p for doc in prepared if isinstance(doc, Document) for p in doc.pieces]
        translated = iter(self._translate_pieces(pieces, job))
        target = self.direction.target
        return [
            doc.join(
                [next(translated) for _ in doc.pieces],
                target.sentence_gap,
                target.keeps_inline_gaps,
            )
            if isinstance(doc, Document)
            else doc
            for doc in prepared
        ]

    def _translate_pieces(self, pieces: Sequence[Piece], job: Job) -> list[str]:
        """Translate every piece of every text of a request with one batcher submission."""
        assert self._engine is not None and self._guard is not None
        out = [p.text for p in pieces]
        keyed: list[tuple[Occurrence, tuple]] = []
        needed = [i for i, p in enumerate(pieces) if self.direction.source.has_script(p.text)]
        self._check_budget(len(needed))
        for index in needed:
            piece = pieces[index]
            protected = self._guard.protect(piece.text)
            job.stats.sentences += 1
            key = TranslationCache.key(self._engine.model_id, job.options, protected.text)
            keyed.append((Occurrence(index, piece.text, protected), key))
        groups = group_sentences(keyed)
        for group in groups.values():
            cached = self.cache.get(group.key) if job.use_cache else None
            if cached is not None:
                group.output, group.from_cache = cached, True
                job.stats.cache_hits += len(group.members)
        misses = [g for g in groups.values() if g.output is None]
        raw = self._run([g.masked for g in misses], job.options, job)
        for group, output in zip(misses, raw, strict=True):
            group.output = strip_debris(output)
        self._finish(groups.values(), job, out)
        return out

    def _check_budget(self, sentences: int) -> None:
        """Refuse a request needing more sentences than the queue holds (413), cached or
        not: whether it is served must not depend on what others translated before."""
        assert self._batcher is not None
        budget = self._batcher.request_budget
        if sentences > budget:
            raise TooManySentences(
                f"This request has {sentences} sentences; one request may have at most "
                f"{budget}. Split it into smaller requests."
            )

    def _finish(self, groups: Iterable[SentenceGroup], job: Job, out: list[str]) -> None:
        """Fill *out* with each occurrence's finished sentence, rescuing refused ones."""
        assert self._finisher is not None
        refused: list[tuple[Occurrence, str]] = []
        for group in groups:
            output = group.output or ""
            for occurrence in group.members:
                finished = self._finisher.accept(output, occurrence)
                if finished is None:
                    refused.append((occurrence, output))
                    continue
                out[occurrence.index] = finished
                if job.use_cache and not group.from_cache:
                    self.cache.put(group.key, output)
        if refused:

            def run(texts: list[str], options: GenerationOptions) -> list[str]:
                return self._run(texts, options, job)

            for index, text in self._finisher.rescue(refused, job, run).items():
                out[index] = text

    def _run(self, texts: list[str], options: GenerationOptions, job: Job) -> list[str]:
        """Send *texts* to the batcher and wait for all of them until the job's deadline:
        in slices of what one client may queue, each sent once the previous one is done."""
        assert self._batcher is not None
        step = self._batcher.client_capacity
        out: list[str] = []
        for start in range(0, len(texts), step):
            out += self._run_slice(texts[start : start + step], options, job)
        return out

    def _run_slice(self, texts: list[str], options: GenerationOptions, job: Job) -> list[str]:
        assert self._batcher is not None
        futures = self._batcher.submit(texts, options, job.deadline)
        try:
            return [future.result(timeout=job.remaining()) for future in futures]
        except FutureTimeout:
            raise DeadlineExceeded(
                "The translation did not finish before the request deadline."
            ) from None
        except ServiceError:
            raise
        except Exception as exc:
            raise TranslationFailed("The translation engine failed on this request.") from exc
        finally:
            for future in futures:
                future.cancel()  # a no-op for finished ones; frees the queue of the rest

    def _engine_call(self, texts: list[str], options: Hashable) -> list[str]:
        """Worker side: one engine call for a batch sharing the same options."""
        assert self._engine is not None and isinstance(options, GenerationOptions)
        return self._engine.translate(texts, options)
