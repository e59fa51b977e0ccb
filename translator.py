"""The public face of translation: text in, English out, through the whole pipeline.

Per request: clean the input → segment it into sentences → mask Latin/digit spans →
look each sentence up in the LRU cache → send the misses to the micro-batcher (whose
worker runs the engine) → post-process → restore spans → reassemble with the source's
whitespace → apply the blocked-words policy.

The model loads in a background thread so the process answers liveness probes at once;
:attr:`Translator.ready` turns true only after a warm-up translation succeeded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from engine import Engine, GenerationOptions, ModelDir
from utils.batcher import MicroBatcher
from utils.cache import TranslationCache
from utils.errors import DeadlineExceeded, NotReady, ServiceError, TranslationFailed
from utils.normalizer import clean_input
from utils.placeholders import Protected, SpanGuard, split_around_spans
from utils.postprocess import BlockedWords, capitalize_first, mirror_final_punctuation, strip_debris
from utils.segmenter import Document, Piece, fit_to_model, has_chinese, segment
from utils.settings import Settings

logger = logging.getLogger(__name__)

WARMUP_TEXT = "你好，世界。"
FALLBACK_BEAM = 4


@dataclass
class RequestStats:
    """What one request cost: reported in the request log line."""

    sentences: int = 0
    cache_hits: int = 0
    fallbacks: int = 0


@dataclass
class _Sentence:
    source: str
    protected: Protected
    key: tuple
    result: str | None = None
    future: Future | None = field(default=None, repr=False)


EngineFactory = Callable[[Settings], Engine]


def _load_engine(settings: Settings) -> Engine:
    model = ModelDir.load(settings.model_path, settings.precision)
    return Engine(
        model, settings.engine_threads, settings.inter_op_threads, settings.intra_op_spinning
    )


class Translator:
    """Thread-safe translation facade owning the engine, its batcher and the cache."""

    def __init__(self, settings: Settings, engine_factory: EngineFactory = _load_engine) -> None:
        self.settings = settings
        self._factory = engine_factory
        self.cache = TranslationCache(settings.cache_size)
        self.blocked = BlockedWords(settings.blocked_words)
        self.engine: Engine | None = None
        self.batcher: MicroBatcher | None = None
        self.guard: SpanGuard | None = None
        self.status = "starting"
        self.error: str | None = None
        self._ready = threading.Event()
        # Called with (sentences, seconds) after every engine call; app.py feeds metrics.
        self.on_batch: Callable[[int, float], None] | None = None
        self._loader: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------

    def start(self, background: bool = True) -> None:
        """Load the model and warm up, in a thread unless *background* is False."""
        if background:
            self._loader = threading.Thread(target=self._load, name="model-loader", daemon=True)
            self._loader.start()
        else:
            self._load()

    def _load(self) -> None:
        self.status = "loading"
        try:
            engine = self._factory(self.settings)
            self.engine = engine
            self.guard = SpanGuard(engine.span_mode, engine.preprocess)
            self.batcher = MicroBatcher(
                self._run_batch,
                self.settings.max_batch_size,
                self.settings.max_wait_ms,
                self.settings.queue_size,
                on_batch=self._observe_batch,
                workers=self.settings.batch_workers,
            )
            self.batcher.start()
            started = time.perf_counter()
            # Warm-up through the whole path (not the engine alone): the first real
            # request must not pay for lazy initialisation anywhere.
            result = self._translate_all(
                [WARMUP_TEXT],
                self.default_options,
                time.monotonic() + 120,
                RequestStats(),
                use_cache=False,
            )
            logger.info(
                "warm-up %r -> %r in %.0f ms",
                WARMUP_TEXT,
                result,
                (time.perf_counter() - started) * 1000,
            )
        except Exception as exc:
            self.status = "failed"
            self.error = f"{type(exc).__name__}: {exc}"
            logger.exception("model loading failed")
            return
        self.status = "ready"
        self._ready.set()

    def _observe_batch(self, size: int, seconds: float) -> None:
        if self.on_batch is not None:
            self.on_batch(size, seconds)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until ready (True) or until *timeout* or a load failure (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if self.status == "failed":
                return False
            if deadline is not None and time.monotonic() > deadline:
                return False
        return True

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self.batcher is not None and self.batcher.alive

    @property
    def model_id(self) -> str:
        return self.engine.model_id if self.engine else str(self.settings.model_dir)

    @property
    def default_options(self) -> GenerationOptions:
        return GenerationOptions(beam_size=self.settings.default_beam_size)

    def close(self) -> None:
        """Stop taking work, finish what is queued, stop the workers."""
        if self.batcher is not None:
            self.batcher.shutdown(wait=True, timeout=self.settings.graceful_timeout_s)
        self._ready.clear()
        self.status = "stopped"

    # --- translation ---------------------------------------------------------------

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions | None = None,
        timeout: float | None = None,
        use_cache: bool = True,
    ) -> tuple[list[str], RequestStats]:
        """Translate each text; raise a ServiceError subclass on any failure.

        ``use_cache=False`` neither reads nor fills the cache (a client's
        ``Cache-Control: no-cache``; load tests use it to measure the model path).
        """
        if not self.ready:
            if self.status == "failed":
                raise NotReady(f"The model failed to load: {self.error}", retry_after=30)
            raise NotReady("The model is still loading; retry shortly.", retry_after=5)
        options = options or self.default_options
        deadline = time.monotonic() + (timeout or self.settings.request_timeout_s)
        stats = RequestStats()
        results = self._translate_all(texts, options, deadline, stats, use_cache)
        return [self.blocked.check(r) for r in results], stats

    def _prepare(self, text: str) -> str | Document:
        """Return the final answer for texts the model need not see, else a Document."""
        cleaned = clean_input(text)
        if not cleaned.strip():
            return ""
        if not has_chinese(cleaned):
            return text  # already English, numbers, emoji: nothing for the model to do
        assert self.engine is not None
        limit = min(self.engine.max_source_tokens, self.settings.max_sentence_tokens)
        return fit_to_model(segment(cleaned), self.engine.count_tokens, limit)

    def _translate_all(
        self,
        texts: Sequence[str],
        options: GenerationOptions,
        deadline: float,
        stats: RequestStats,
        use_cache: bool = True,
    ) -> list[str]:
        prepared = [self._prepare(t) for t in texts]
        pieces = [p for doc in prepared if isinstance(doc, Document) for p in doc.pieces]
        translated = iter(self._translate_pieces(pieces, options, deadline, stats, use_cache))
        results = []
        for doc in prepared:
            if isinstance(doc, Document):
                results.append(doc.join([next(translated) for _ in doc.pieces]))
            else:
                results.append(doc)
        return results

    def _translate_pieces(
        self,
        pieces: Sequence[Piece],
        options: GenerationOptions,
        deadline: float,
        stats: RequestStats,
        use_cache: bool,
    ) -> list[str]:
        """Translate every piece of every text of a request with one batcher submission."""
        assert self.engine is not None and self.guard is not None
        model_id = self.engine.model_id
        out: list[str] = [p.text for p in pieces]
        todo: dict[tuple, list[tuple[int, _Sentence]]] = {}
        for index, piece in enumerate(pieces):
            if not has_chinese(piece.text):
                continue
            protected = self.guard.protect(piece.text)
            if protected.overflow:
                out[index] = self._split_translate(piece.text, options, deadline, stats)
                continue
            stats.sentences += 1
            key = TranslationCache.key(model_id, options, protected.text)
            sentence = _Sentence(piece.text, protected, key)
            cached = self.cache.get(key) if use_cache else None
            if cached is not None:
                stats.cache_hits += 1
                sentence.result = cached
            todo.setdefault(key, []).append((index, sentence))
        misses = [group[0][1] for group in todo.values() if group[0][1].result is None]
        fresh = {id(s) for s in misses}
        raw = self._run([s.protected.text for s in misses], options, deadline)
        for sentence, output in zip(misses, raw, strict=True):
            sentence.result = strip_debris(output)
        for group in todo.values():
            head = group[0][1]
            for index, sentence in group:
                out[index] = self._finish(
                    sentence,
                    head.result or "",
                    options,
                    deadline,
                    stats,
                    cache=use_cache and id(head) in fresh,
                )
        return out

    def _finish(
        self,
        sentence: _Sentence,
        masked: str,
        options: GenerationOptions,
        deadline: float,
        stats: RequestStats,
        cache: bool,
    ) -> str:
        assert self.guard is not None
        restored = self.guard.restore(masked, sentence.protected)
        if restored is None:
            # A span got lost or garbled: retry with beam search, then keep the spans
            # out of the model entirely. Never return a translation missing them.
            stats.fallbacks += 1
            retry = GenerationOptions(beam_size=FALLBACK_BEAM)
            masked = strip_debris(self._run([sentence.protected.text], retry, deadline)[0])
            restored = self.guard.restore(masked, sentence.protected)
            if restored is None:
                logger.info(
                    "span fallback: translating around %d span(s)", len(sentence.protected.spans)
                )
                return self._split_translate(sentence.source, options, deadline, stats)
        elif cache:
            self.cache.put(sentence.key, masked)
        if not restored.strip():
            # The model produced nothing (only special tokens): keep the source sentence
            # visible rather than silently drop it from the translation.
            logger.warning(
                "empty translation for a %d-character sentence; kept the source",
                len(sentence.source),
            )
            return sentence.source
        spans = sentence.protected.spans
        return capitalize_first(mirror_final_punctuation(restored, sentence.source), spans)

    def _split_translate(
        self, text: str, options: GenerationOptions, deadline: float, stats: RequestStats
    ) -> str:
        """Translate the Chinese between spans separately and keep the spans verbatim."""
        pieces = split_around_spans(text)
        chinese = [p for p, is_span in pieces if not is_span and has_chinese(p)]
        translated = iter(strip_debris(t) for t in self._run(chinese, options, deadline))
        words = []
        for piece, is_span in pieces:
            words.append(next(translated) if not is_span and has_chinese(piece) else piece.strip())
        joined = " ".join(
            w.rstrip(".") if i < len(words) - 1 else w for i, w in enumerate(words) if w
        )
        spans = [p for p, is_span in pieces if is_span]
        return capitalize_first(mirror_final_punctuation(joined, text), spans)

    def _run(self, texts: list[str], options: GenerationOptions, deadline: float) -> list[str]:
        """Send *texts* to the batcher and wait for all of them until *deadline*."""
        if not texts:
            return []
        assert self.batcher is not None
        futures = self.batcher.submit(texts, options, deadline)
        results = []
        try:
            for future in futures:
                results.append(future.result(timeout=max(0.0, deadline - time.monotonic())))
        except FutureTimeout:
            for future in futures:
                future.cancel()
            raise DeadlineExceeded(
                "The translation did not finish before the request deadline."
            ) from None
        except ServiceError:
            for future in futures:
                future.cancel()
            raise
        except Exception as exc:
            for future in futures:
                future.cancel()
            raise TranslationFailed("The translation engine failed on this request.") from exc
        return results

    def _run_batch(self, texts: list[str], options: GenerationOptions) -> list[str]:
        """Worker side: one engine call for a batch sharing the same options."""
        assert self.engine is not None
        return self.engine.translate(texts, options)

    def stats(self) -> dict:
        return {
            "model_status": self.status,
            "model": self.model_id,
            "queue_depth": self.batcher.depth if self.batcher else 0,
            "worker_alive": bool(self.batcher and self.batcher.alive),
            "batches": self.batcher.batches if self.batcher else 0,
            "cache": self.cache.stats(),
        }
