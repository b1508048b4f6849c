"""Configuration: one typed, validated tree (YAML file + environment + CLI flags)."""

from satellite.config.loader import load_config
from satellite.config.paths import default_paths, resolve_state_dir
from satellite.config.schema import (
    AudioConfig,
    CacheConfig,
    Config,
    HealthConfig,
    IntentConfig,
    LlmConfig,
    LogConfig,
    SchedulerConfig,
    SttConfig,
    TtsConfig,
    VadConfig,
    WakeConfig,
    WyomingConfig,
)

__all__ = [
    "AudioConfig",
    "CacheConfig",
    "Config",
    "HealthConfig",
    "IntentConfig",
    "LlmConfig",
    "LogConfig",
    "SchedulerConfig",
    "SttConfig",
    "TtsConfig",
    "VadConfig",
    "WakeConfig",
    "WyomingConfig",
    "default_paths",
    "load_config",
    "resolve_state_dir",
]
