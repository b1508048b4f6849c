"""The ``info`` event: what this box serves over Wyoming, built once from what is loaded."""

from __future__ import annotations

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    IntentModel,
    IntentProgram,
    TtsProgram,
    TtsVoice,
    TtsVoiceSpeaker,
)

from satellite import __version__
from satellite.config.schema import Config
from satellite.engines import Engines

PROJECT = Attribution(name="sarai-satellite", url="https://github.com/sarai-satellite")
WHISPER = Attribution(name="OpenAI Whisper (faster-whisper)", url="https://github.com/SYSTRAN/faster-whisper")
PIPER = Attribution(name="Piper", url="https://github.com/OHF-Voice/piper1-gpl")
HASSIL = Attribution(name="hassil + home-assistant-intents", url="https://github.com/home-assistant/intents")
ASR_PROGRAM = "sarai-whisper"
TTS_PROGRAM = "sarai-piper"
INTENT_PROGRAM = "sarai-intents"
HANDLE_PROGRAM = "sarai-assistant"


def _stt_model(config: Config, engines: Engines) -> tuple[str, list[str]]:
    """(model name, languages) as the loaded Whisper engine reports them."""
    name = getattr(engines.stt, "name", "") or "whisper"
    languages = list(getattr(engines.stt, "languages", []) or [config.stt.language or "en"])
    return str(name), languages


def _llm_model_name(engines: Engines) -> str:
    identity = getattr(engines.llm, "identity", "")
    return str(identity).split(":")[0] or "llm"


def build_info(config: Config, engines: Engines, intents_enabled: bool) -> Info:
    """Advertise only what is loaded: the Whisper model, every Piper voice, hassil, the LLM agent."""
    language = config.stt.language or "en"
    stt_name, stt_languages = _stt_model(config, engines)
    asr = AsrProgram(
        name=ASR_PROGRAM, attribution=WHISPER, installed=True, version=__version__,
        description="Whisper speech-to-text on the satellite",
        models=[AsrModel(name=stt_name, attribution=WHISPER, installed=True,
                         description="Whisper (CTranslate2)", version=None, languages=stt_languages)],
        # Whisper has no partial results; re-running it on growing audio would cost a full
        # encoder pass per update on a small box. One final ``transcript`` is sent.
        supports_transcript_streaming=False,
    )
    voices = [
        TtsVoice(name=name, attribution=PIPER, installed=True, version=None,
                 description=f"Piper {name}", languages=[tts.voice.language],
                 speakers=[TtsVoiceSpeaker(name=s) for s in tts.voice.speakers] or None)
        for name, tts in engines.voices().items()
    ]
    tts_program = TtsProgram(name=TTS_PROGRAM, attribution=PIPER, installed=True,
                             version=__version__, description="Piper text-to-speech on the satellite",
                             voices=voices, supports_synthesize_streaming=True)
    handle = HandleProgram(
        name=HANDLE_PROGRAM, attribution=PROJECT, installed=True, version=__version__,
        description="Local LLM conversation agent (with response cache and memory)",
        models=[HandleModel(name=_llm_model_name(engines), attribution=PROJECT, installed=True,
                            description="llama.cpp", version=None, languages=[language])],
        supports_handled_streaming=True,
    )
    intent = [IntentProgram(
        name=INTENT_PROGRAM, attribution=HASSIL, installed=True, version=__version__,
        description="Home Assistant intents recognized on the satellite",
        models=[IntentModel(name=f"home-assistant-intents-{config.intent.language}",
                            attribution=HASSIL, installed=True, description="hassil templates",
                            version=None, languages=[config.intent.language])],
    )] if intents_enabled else []
    broken = engines.broken  # advertise only what works on this machine
    return Info(asr=[] if "stt" in broken else [asr], tts=[] if "tts" in broken else [tts_program],
                handle=[] if "llm" in broken else [handle], intent=intent)
