"""LibreTranslate's side of scripts/bench_service.py: its venv and an Argos package.

LibreTranslate 1.9.6 (argos-translate-lt 1.12.1, CTranslate2 4.8.5) lives in its own
venv, ``build/lt-venv``, outside requirements.txt. :func:`setup` makes it (idempotent):

    python3 -m venv build/lt-venv
    build/lt-venv/bin/pip install libretranslate==1.9.6 spacy==3.8.18

Its resolver wants no torch (checked with ``pip install --dry-run``), so nothing pulls a
CUDA build; spaCy is there for the sentence splitter below. After that everything runs
offline.

The Argos package (:func:`build_package`) is the shipped model converted for
CTranslate2, INT8, so that both services decode the same weights the same way:

- the source vocabulary is the exported encoder's rows and the target vocabulary the
  decoder's rows (``vocab_rows.json``), each with its own slice of the tied embedding
  matrix, so CTranslate2 can emit exactly the pieces this service's decoder can;
- the decoder starts from ``<pad>``'s trained embedding, as the exported decoder does
  (CTranslate2's Marian converter drops that row and starts from zeros, which the demo
  checkpoint never saw), and ``<pad>`` is banned by a large negative logit bias;
- ``add_source_eos``: Argos never appends ``</s>`` itself.

Layout (a zip of one folder, installed with ``argostranslate.package.install_from_path``):
``metadata.json``, ``model/`` (CTranslate2), ``sentencepiece.model`` (the *source* model:
Argos encodes and decodes with one file; decoding target pieces with it only joins them
and turns ``▁`` into spaces, which gives the same text) and ``spacy/``, a blank spaCy
``zh`` pipeline: with ``ARGOS_CHUNK_TYPE=SPACY`` Argos adds a rule-based sentencizer to
it, where its default splitter (MiniSBD) would download a model on the first request.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

from config import ROOT
from toolchain.loadtest import Client

logger = logging.getLogger(__name__)

LT_VENV = ROOT / "build" / "lt-venv"
LT_REQUIREMENTS = ("libretranslate==1.9.6", "spacy==3.8.18")
PACKAGE_DIR = "translate-zh_en-demo"
BANNED_LOGIT = -1e4
INSTALL_TIMEOUT_S = 1800


def lt_python(venv: Path = LT_VENV) -> Path:
    return venv / "bin" / "python"


def installed(venv: Path) -> bool:
    if not lt_python(venv).is_file():
        return False
    wanted = [r.split("==") for r in LT_REQUIREMENTS]
    code = "import importlib.metadata as m, sys; sys.exit(any(m.version(n) != v for n, v in %r))"
    cmd = [lt_python(venv), "-c", code % wanted]
    done = subprocess.run(cmd, check=False, capture_output=True, timeout=60)
    return done.returncode == 0


def setup(venv: Path = LT_VENV) -> Path:
    """Create *venv* with LibreTranslate and spaCy unless they are there already."""
    if installed(venv):
        logger.info("%s already has %s", venv, ", ".join(LT_REQUIREMENTS))
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    if not lt_python(venv).is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "pip"), "install", "--quiet"]
    subprocess.run([*pip, *LT_REQUIREMENTS], check=True, timeout=INSTALL_TIMEOUT_S)
    return venv


# --- CTranslate2 conversion ------------------------------------------------------------


def _rows_loader(pieces: list[str], rows: dict[str, list[int]], pad: int):  # noqa: ANN202
    """A Marian loader for CTranslate2 that keeps the exported model's vocabulary rows."""
    source_rows, target_rows = rows["source_rows"], rows["target_rows"]
    from ctranslate2.converters.transformers import BartLoader, MarianMTLoader

    class RowsLoader(MarianMTLoader):
        def get_model_spec(self, model):  # noqa: ANN001, ANN202
            model.config.normalize_before = False
            model.config.normalize_embedding = False
            spec = BartLoader.get_model_spec(self, model)  # keeps the <pad> row
            weight = model.model.shared.weight.detach()
            spec.encoder.embeddings[0].weight = weight[source_rows]
            target = weight[target_rows]
            spec.decoder.embeddings.weight = target
            spec.decoder.projection.weight = target
            bias = model.final_logits_bias.detach().reshape(-1)[target_rows].clone()
            bias[target_rows.index(pad)] = BANNED_LOGIT
            spec.decoder.projection.bias = bias
            return spec

        def set_decoder(self, spec, decoder):  # noqa: ANN001, ANN202
            BartLoader.set_decoder(self, spec, decoder)  # start from <pad>, not zeros

        def set_config(self, config, model, tokenizer):  # noqa: ANN001, ANN202
            super().set_config(config, model, tokenizer)
            config.decoder_start_token = "<pad>"
            config.add_source_eos = True

        def get_vocabulary(self, model, tokenizer):  # noqa: ANN001, ANN202
            return pieces  # vocab.json's, <pad> kept

        def set_vocabulary(self, spec, tokens):  # noqa: ANN001, ANN202
            spec.register_source_vocabulary([tokens[i] for i in source_rows])
            spec.register_target_vocabulary([tokens[i] for i in target_rows])

    return RowsLoader()


@contextlib.contextmanager
def _marian_loader(loader: object) -> Iterator[None]:
    from ctranslate2.converters import transformers as ct2t

    saved = ct2t._MODEL_LOADERS["MarianConfig"]
    ct2t._MODEL_LOADERS["MarianConfig"] = loader
    try:
        yield
    finally:
        ct2t._MODEL_LOADERS["MarianConfig"] = saved


def convert_ct2(model_dir: Path, checkpoint: Path, out: Path) -> Path:
    """Convert *checkpoint* to CTranslate2 INT8 with *model_dir*'s vocabulary rows."""
    from ctranslate2.converters import TransformersConverter

    rows = json.loads((model_dir / "vocab_rows.json").read_text(encoding="utf-8"))
    vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))
    pieces = [p for p, _ in sorted(vocab.items(), key=lambda item: item[1])]
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    pad = manifest["vocab"]["pad"]
    if manifest["vocab"]["decoder_start"] != pad:
        raise ValueError("expected a model whose decoder starts from <pad>")
    loader = _rows_loader(pieces, rows, pad)
    with _marian_loader(loader):
        TransformersConverter(str(checkpoint)).convert(str(out), quantization="int8", force=True)
    return out


# --- the package -----------------------------------------------------------------------


def metadata(manifest: dict) -> dict:
    return {
        "package_version": "1.0",
        "argos_version": "1.0",
        "from_code": manifest["source_lang"],
        "from_name": "Chinese",
        "to_code": manifest["target_lang"],
        "to_name": "English",
        "type": "translate",
        "links": [],
    }


def layout(model_dir: Path, ct2_dir: Path, spacy_dir: Path, staging: Path) -> Path:
    """Lay the package folder out under *staging*; return the folder."""
    folder = staging / PACKAGE_DIR
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    (folder / "metadata.json").write_text(json.dumps(metadata(manifest), indent=1))
    shutil.copytree(ct2_dir, folder / "model")
    shutil.copy(model_dir / "source.spm", folder / "sentencepiece.model")
    shutil.copytree(spacy_dir, folder / "spacy")
    return folder


def zip_folder(folder: Path, out_file: Path) -> Path:
    with zipfile.ZipFile(out_file, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            zf.write(path, path.relative_to(folder.parent).as_posix())
    return out_file


def blank_spacy(python: Path, out: Path, lang: str = "zh") -> Path:
    """A blank spaCy pipeline (tokenizer only) written by the LibreTranslate venv."""
    code = "import spacy, sys; spacy.blank(sys.argv[1]).to_disk(sys.argv[2])"
    subprocess.run([str(python), "-c", code, lang, str(out)], check=True, timeout=300)
    return out


def _fingerprint(model_dir: Path) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for name in ("manifest.json", "vocab_rows.json", "checkpoint/model.safetensors"):
        digest.update((model_dir / name).read_bytes())
    return digest.hexdigest()[:16]


def build_package(model_dir: Path, work: Path, python: Path) -> Path:
    """The .argosmodel file for *model_dir*, built under *work* unless up to date."""
    out_file = work / f"{PACKAGE_DIR}-{_fingerprint(model_dir)}.argosmodel"
    if out_file.is_file():
        return out_file
    work.mkdir(parents=True, exist_ok=True)
    ct2 = convert_ct2(model_dir, model_dir / "checkpoint", work / "ct2")
    spacy_dir = work / "spacy-zh"
    if spacy_dir.exists():
        shutil.rmtree(spacy_dir)
    blank_spacy(python, spacy_dir)
    folder = layout(model_dir, ct2, spacy_dir, work / "staging")
    logger.info("argos package %s", out_file)
    return zip_folder(folder, out_file)


# --- running LibreTranslate offline ------------------------------------------------------


def lt_environment(home: Path, beam: int, intra_threads: int) -> dict[str, str]:
    """Variables that keep LibreTranslate offline, its files under *home*, beam *beam*."""
    home = home.resolve()
    index = home / "index"
    index.mkdir(parents=True, exist_ok=True)
    (index / "index.json").write_text("[]")  # no remote index: startup would retry it
    # Argos looks for a cached multilingual spaCy model at import time and downloads it
    # when missing; ours is packaged, so an empty stand-in stops the download.
    (home / "cache" / "argos-translate" / "spacy" / "senter" / "model").mkdir(
        parents=True, exist_ok=True
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARGOS_", "LT_"))}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        ARGOS_PACKAGE_INDEX=index.as_uri() + "/",
        ARGOS_CHUNK_TYPE="SPACY",
        ARGOS_BEAM_SIZE=str(beam),
        ARGOS_INTRA_THREADS=str(intra_threads),
        ARGOS_DEVICE_TYPE="cpu",
    )
    return env


def install_package(python: Path, package_file: Path, env: dict[str, str]) -> None:
    code = (
        "import sys; from pathlib import Path; from argostranslate import package; "
        "package.install_from_path(Path(sys.argv[1]))"
    )
    cmd = [str(python), "-c", code, str(package_file)]
    subprocess.run(cmd, check=True, timeout=300, env=env)


def lt_command(venv: Path, port: int, threads: int) -> list[str]:
    options = "--load-only zh,en --disable-web-ui --disable-files-translation --char-limit -1"
    host = ["--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)]
    return [str(venv / "bin" / "libretranslate"), *host, *options.split()]


# --- processes on loopback (both services) -----------------------------------------------
# Each in its own process group, ready within a timeout, its tree's RSS sampled from
# /proc, and killed with all its descendants when the block ends, error or not.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_tree(root: int) -> list[int]:
    """*root* and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields_ = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields_[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def tree_rss_bytes(root: int) -> int:
    total = 0
    for pid in process_tree(root):
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


class MemoryWatcher(threading.Thread):
    """Samples a process tree's summed RSS; :meth:`take` returns the peak since the last."""

    def __init__(self, root: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.every = root, every
        self.peak = self.overall = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every):
            rss = tree_rss_bytes(self.root)
            self.peak, self.overall = max(self.peak, rss), max(self.overall, rss)

    def take(self) -> float:
        peak, self.peak = self.peak, tree_rss_bytes(self.root)
        return round(max(peak, self.peak) / 2**20, 1)


def _stop(proc: subprocess.Popen) -> None:
    tree = process_tree(proc.pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        for pid in tree:  # children that left the process group
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        try:
            proc.wait(15)
            return
        except subprocess.TimeoutExpired:
            logger.warning("pid %d ignored %s", proc.pid, sig.name)


@contextlib.contextmanager
def started(cmd: list[str], env: dict, log: Path, url: str, probe: str, timeout: float) -> Iterator:
    """Run *cmd* in its own process group until *url*+*probe* answers 200; kill it after."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        client, deadline = Client(url, 5), time.monotonic() + timeout
        while client.request("GET", probe)[0] != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[0]} did not get ready in {timeout:.0f} s: see {log}")
            time.sleep(0.5)
        watcher = MemoryWatcher(proc.pid)
        watcher.start()
        yield watcher
        watcher.done.set()
    finally:
        _stop(proc)


def loopback() -> tuple[str, int]:
    port = free_port()
    return f"http://127.0.0.1:{port}", port
