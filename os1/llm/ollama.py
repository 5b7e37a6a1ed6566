"""Find the GGUF file behind an Ollama model name by reading Ollama's store directly.

People who already pulled models with Ollama shouldn't have to download them again, nor
keep Ollama running: the store is plain files. A manifest at
``manifests/<registry>/<namespace>/<model>/<tag>`` lists layers by digest, and the weights
layer's digest ``sha256:<hex>`` names the blob file ``blobs/sha256-<hex>``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from os1.errors import ModelFileError, ModelNotFound

DEFAULT_REGISTRY = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model"
NAME_PREFIX = "ollama:"
GGUF_MAGIC = b"GGUF"
LISTED_MAX = 10
# Where the Linux installer's systemd service keeps models (it runs as user "ollama").
SYSTEM_STORE = Path("/usr/share/ollama/.ollama/models")

_DIGEST = re.compile(r"sha256:([0-9a-fA-F]+)")
_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?")


@dataclass(frozen=True)
class OllamaName:
    registry: str
    namespace: str
    model: str
    tag: str

    def manifest_path(self, store: Path) -> Path:
        return store / "manifests" / self.registry / self.namespace / self.model / self.tag

    def __str__(self) -> str:
        """The short form Ollama itself prints: defaults are left out."""
        if self.registry != DEFAULT_REGISTRY:
            return f"{self.registry}/{self.namespace}/{self.model}:{self.tag}"
        if self.namespace != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.model}:{self.tag}"


def parse_ollama_name(name: str) -> OllamaName:
    """Splits ``[ollama:][[registry/]namespace/]model[:tag]``.

    The tag is taken from the last path segment only, because a registry may carry a
    port (``host:5000/ns/model``).
    """
    text = name.strip().removeprefix(NAME_PREFIX)
    segments = text.split("/")
    model, _, tag = segments[-1].partition(":")
    namespace = segments[-2] if len(segments) >= 2 else DEFAULT_NAMESPACE
    registry = segments[-3] if len(segments) == 3 else DEFAULT_REGISTRY
    parsed = OllamaName(registry, namespace, model, tag or DEFAULT_TAG)
    parts = (parsed.namespace, parsed.model, parsed.tag)
    if (
        len(segments) > 3
        or not _HOST.fullmatch(parsed.registry)
        or not all(_PART.fullmatch(part) for part in parts)
    ):
        raise ModelNotFound(
            f"{name!r} is not an Ollama model name.",
            "Write it like llama3.2, llama3.2:3b, user/model:tag or host/namespace/model:tag.",
        )
    return parsed


def ollama_stores(models_dir: Path | None = None) -> list[Path]:
    """Stores to search, in order: an explicit directory or ``OLLAMA_MODELS`` is the only
    one, as Ollama itself would use; otherwise the per-user store, then the service's."""
    if models_dir is not None:
        return [models_dir.expanduser()]
    from_env = os.environ.get("OLLAMA_MODELS", "").strip()
    if from_env:
        return [Path(from_env).expanduser()]
    return [Path.home() / ".ollama" / "models", SYSTEM_STORE]


def resolve_ollama_model(name: str, models_dir: Path | None = None) -> Path:
    """The path of the GGUF weights for Ollama model ``name``, checked to exist and be whole."""
    parsed = parse_ollama_name(name)
    stores = ollama_stores(models_dir)
    for store in stores:
        manifest = parsed.manifest_path(store)
        if manifest.is_file():
            return _model_blob(store, manifest, parsed)
    raise _not_found(parsed, stores)


def list_ollama_models(models_dir: Path | None = None) -> list[str]:
    """Every model in the store(s), in Ollama's short ``name:tag`` form, sorted."""
    names: set[str] = set()
    for store in ollama_stores(models_dir):
        names.update(_names_in(store))
    return sorted(names)


def _names_in(store: Path) -> Iterable[str]:
    root = store / "manifests"
    if not root.is_dir():
        return
    for manifest in root.glob("*/*/*/*"):
        if manifest.is_file():
            registry, namespace, model, tag = manifest.relative_to(root).parts
            yield str(OllamaName(registry, namespace, model, tag))


def _not_found(parsed: OllamaName, stores: list[Path]) -> ModelNotFound:
    looked = " or ".join(str(parsed.manifest_path(store)) for store in stores)
    available = [name for store in stores for name in _names_in(store)]
    message = f"No Ollama model {parsed}: there is no manifest at {looked}."
    if available:
        shown = sorted(set(available))
        listed = ", ".join(shown[:LISTED_MAX])
        more = f" and {len(shown) - LISTED_MAX} more" if len(shown) > LISTED_MAX else ""
        hint = f"The store has: {listed}{more}."
    elif not any(store.is_dir() for store in stores):
        hint = "No Ollama store found. Set OLLAMA_MODELS to where Ollama keeps its models."
    else:
        hint = f"Pull it first: ollama pull {parsed}"
    return ModelNotFound(message, hint)


def _model_blob(store: Path, manifest: Path, parsed: OllamaName) -> Path:
    layer = _model_layer(manifest)
    digest = str(layer.get("digest", ""))
    match = _DIGEST.fullmatch(digest)
    if match is None:
        raise ModelFileError(f"The manifest {manifest} has a weights layer with a bad digest.")
    blob = store / "blobs" / f"sha256-{match.group(1)}"
    repull = f"Download it again: ollama pull {parsed}"
    if not blob.is_file():
        raise ModelFileError(f"The weights of {parsed} are missing: no file {blob}.", repull)
    _check_blob(blob, layer.get("size"), parsed, repull)
    return blob


def _model_layer(manifest: Path) -> Mapping[str, Any]:
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"The Ollama manifest {manifest} is not readable JSON: {exc}") from exc
    layers = data.get("layers") if isinstance(data, dict) else None
    for layer in layers if isinstance(layers, list) else []:
        if isinstance(layer, dict) and layer.get("mediaType") == MODEL_MEDIA_TYPE:
            return layer
    raise ModelFileError(
        f"The Ollama manifest {manifest} has no model weights layer ({MODEL_MEDIA_TYPE}).",
        "It may be an adapter or a non-GGUF model; pick another model.",
    )


def _check_blob(blob: Path, expected_size: object, parsed: OllamaName, repull: str) -> None:
    """Catches a partial download or a non-GGUF blob here, where the message can name the
    model, rather than as an obscure loader failure later."""
    try:
        size = blob.stat().st_size
        with blob.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise ModelFileError(f"Can't read the weights of {parsed} at {blob}: {exc}") from exc
    if isinstance(expected_size, int) and size != expected_size:
        raise ModelFileError(
            f"The weights of {parsed} are incomplete: {blob} has {size} bytes, "
            f"the manifest says {expected_size}.",
            repull,
        )
    if magic != GGUF_MAGIC:
        raise ModelFileError(f"The weights of {parsed} in {blob} are not a GGUF file.", repull)
