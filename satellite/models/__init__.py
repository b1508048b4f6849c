"""Models on demand: a curated catalog, the models directory, pulls from Hugging Face.

A config names a model by path or by catalog name (``llm.model: lfm2-1.2b``);
``resolve_models`` turns names into paths before the engines load. Nothing is
downloaded at run time: ``satellite models pull NAME`` fetches, ``satellite
models list`` shows what is there and what can be fetched. The download code
(``satellite.models.download``, huggingface_hub) is imported only by the pull.
"""

from satellite.models.catalog import CATALOG, CatalogFile, CatalogModel, find_model, get_model
from satellite.models.resolve import (
    installed_models,
    resolve_model,
    resolve_models,
    resolved_llm,
    resolved_stt,
    resolved_tts,
    store_for,
)
from satellite.models.store import InstalledModel, ModelStore

__all__ = [
    "CATALOG",
    "CatalogFile",
    "CatalogModel",
    "InstalledModel",
    "ModelStore",
    "find_model",
    "get_model",
    "installed_models",
    "resolve_model",
    "resolve_models",
    "resolved_llm",
    "resolved_stt",
    "resolved_tts",
    "store_for",
]
