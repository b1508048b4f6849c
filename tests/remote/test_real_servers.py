"""Each remote engine against the peer's real server, on the default model files."""

from __future__ import annotations

import pytest

from satellite.config import Config
from satellite.engines import load_engines
from satellite.engines.llm import ChatMessage
from tests.conftest import dev_clips, make_config
from tests.remote.servers import LLM_ALIAS, ServerProcess
from tests.timeline import dev_clip

pytestmark = pytest.mark.slow
LOADED_MACHINE_TIMEOUT_S = 60.0


def remote_config(tmp_path, whisper: ServerProcess | None = None, llama: ServerProcess | None = None,
                  piper: ServerProcess | None = None, **overrides: object) -> Config:
    # Generous timeouts: the machine is shared and often loaded; the error tests use short ones.
    values: dict[str, object] = {"stt__timeout_s": LOADED_MACHINE_TIMEOUT_S,
                                 "llm__timeout_s": LOADED_MACHINE_TIMEOUT_S,
                                 "tts__timeout_s": LOADED_MACHINE_TIMEOUT_S}
    if whisper is not None:
        values["stt__uri"] = whisper.uri
    if llama is not None:
        values.update(llm__uri=llama.uri, llm__model_name=LLM_ALIAS)
    if piper is not None:
        values["tts__uri"] = piper.uri
    values.update(overrides)
    return make_config(tmp_path, **values)


def test_whisper_server_transcribes_a_spoken_question(tmp_path, whisper: ServerProcess) -> None:
    engines = load_engines(remote_config(tmp_path, whisper=whisper), only=("stt",))
    clip = next(c for c in dev_clips() if c.path.name == "syn_05a.wav")
    transcript = engines.stt.transcribe(dev_clip("syn_05a.wav"))
    said = {w.strip(".,?!").lower() for w in clip.text.split()}
    heard = {w.strip(".,?!").lower() for w in transcript.text.split()}
    assert len(said & heard) >= len(said) - 1, (clip.text, transcript.text)
    assert engines.stt.link.state == "up"


def test_piper_server_speaks_a_sentence_in_blocks_at_the_voice_rate(tmp_path, piper: ServerProcess
                                                                   ) -> None:
    engines = load_engines(remote_config(tmp_path, piper=piper), only=("tts",))
    blocks = list(engines.tts.synthesize("The capital of France is Paris."))
    assert blocks and all(b.rate_hz == 22050 for b in blocks)
    assert 1.0 < sum(b.seconds for b in blocks) < 6.0
    assert engines.tts.voice.sample_rate_hz == 22050


def test_llama_cpp_server_streams_the_answer_piece_by_piece(tmp_path, llama: ServerProcess) -> None:
    config = remote_config(tmp_path, llama=llama)
    engines = load_engines(config, only=("llm",))
    pieces = list(engines.llm.stream([ChatMessage("system", config.llm.system_prompt),
                                      ChatMessage("user", "What is the capital of France?")]))
    assert len(pieces) > 3  # streamed, not one block
    assert "Paris" in "".join(pieces)


def test_the_probe_names_the_servers(tmp_path, whisper: ServerProcess, llama: ServerProcess,
                                     piper: ServerProcess) -> None:
    engines = load_engines(remote_config(tmp_path, whisper, llama, piper))
    for link in engines.links.values():
        assert link.probe(), link.detail
    assert "faster-whisper" in engines.links["stt"].detail
    assert "piper" in engines.links["tts"].detail
    assert LLM_ALIAS in engines.links["llm"].detail


def test_a_model_name_the_endpoint_lacks_is_said_plainly(tmp_path, llama: ServerProcess) -> None:
    engines = load_engines(remote_config(tmp_path, llama=llama, llm__model_name="gpt-9"), only=("llm",))
    assert not engines.llm.link.probe()
    assert "no model 'gpt-9'" in engines.llm.link.detail
