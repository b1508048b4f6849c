#!/usr/bin/env python3
"""Pauses inside one request: how many turns each recording becomes, before and after.

    .venv/bin/python scripts/bench_pauses.py [--stt-model NAME] [--json out.json]

Each recording goes through the box's own VAD (webrtc, 30 ms frames) and segmenter with the
default config, and the adaptive end of speech is played out as the listener plays it on a
real-time microphone: at ``SilenceBegan`` the default STT transcribes the audio so far (for
real), the silence is held meanwhile, and the transcript's judgement is applied once the
transcription's own wall time has gone by in stream time. "before" judges as the listener did
before #18 part 4 (only a trailing-off waits); "after" is ``endpointing.judge``.

Recordings: the human clips of ``scripts/human_speech.py`` alone, then joined with the pauses
a reader leaves between sentences (LibriVox, consecutive sentences of the same reading), and
synthetic requests with pauses (espeak-ng ``-v en-us -s 175``, 16 kHz). Also: the natural
pauses inside the human clips (the VAD's silent runs between voiced frames).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from satellite.audio import Pcm, read_wav  # noqa: E402
from satellite.benchdata import EspeakSpeaker  # noqa: E402
from satellite.benchdata.speech import Sentence  # noqa: E402
from satellite.config import Config, load_config  # noqa: E402
from satellite.room.frontend import segmenter_options  # noqa: E402
from satellite.engines.stt import WhisperStt  # noqa: E402
from satellite.engines.vad import create_vad  # noqa: E402
from satellite.models.resolve import resolved_stt  # noqa: E402
from satellite.room.endpointing import Ending, judge, silence_to_wait_ms, trails_off  # noqa: E402
from satellite.room.segmenter import (  # noqa: E402
    SOUND_FLOOR,
    SilenceBegan,
    SpeechResumed,
    UtteranceEnded,
    VadSegmenter,
)
from scripts.human_speech import human_set  # noqa: E402

Judge = Callable[[str], Ending]


def judge_before(text: str) -> Ending:
    return Ending.TRAILING if trails_off(text) else Ending.COMPLETE


def judge_after(text: str) -> Ending:
    return judge(text, "en")


@dataclasses.dataclass
class Turn:
    text: str
    reason: str
    end_of_speech_ms: float  # the VAD's last voiced frame → the decision


def turns_of(pcm: Pcm, config: Config, stt: WhisperStt, decide: Judge) -> list[Turn]:
    """The utterances ``pcm`` becomes in the room, with what the STT heard in each."""
    vad = create_vad(config.vad)
    segmenter = VadSegmenter(vad.frame_samples, **segmenter_options(config))
    size = vad.frame_bytes
    audio = pcm.audio + bytes(size * 40)  # 1.2 s of quiet after the last word
    pending: tuple[float, int, str] | None = None  # (judged at stream s, utterance, transcript)
    turns: list[Turn] = []
    for offset in range(0, len(audio) - size + 1, size):
        for event in segmenter.feed(audio[offset:offset + size], vad.is_speech(audio[offset:offset + size])):
            if isinstance(event, SilenceBegan):
                start = time.perf_counter()
                text = stt.transcribe(event.pcm).text
                pending = (segmenter.stream_s + time.perf_counter() - start, event.utterance, text)
                segmenter.hold(config.vad.trailing_hangover_ms)  # the silence waits for the transcript
            elif isinstance(event, SpeechResumed):
                pending = None
            elif isinstance(event, UtteranceEnded):
                pending = None
                turns.append(Turn(stt.transcribe(event.pcm).text, event.reason, event.end_of_speech_ms))
        if pending is not None and segmenter.stream_s >= pending[0]:
            _, utterance, text = pending
            pending = None
            if segmenter.utterance != utterance or not segmenter.speculating:
                continue
            ending = decide(text)
            if ending is not Ending.COMPLETE:
                segmenter.hold(silence_to_wait_ms(ending, config.vad))
            elif segmenter.silence_ms >= config.vad.min_hangover_ms:
                ended = segmenter.end_now("complete")
                if isinstance(ended, UtteranceEnded):
                    turns.append(Turn(stt.transcribe(ended.pcm).text, ended.reason, ended.end_of_speech_ms))
            else:
                segmenter.hold(config.vad.min_hangover_ms, "complete")
    for event in segmenter.flush():
        if isinstance(event, UtteranceEnded):
            turns.append(Turn(stt.transcribe(event.pcm).text, event.reason, event.end_of_speech_ms))
    return turns


def inner_pauses_ms(pcm: Pcm, config: Config) -> list[float]:
    """The VAD's silent runs between voiced frames inside a clip (its natural pauses)."""
    vad = create_vad(config.vad)
    size = vad.frame_bytes
    voiced = [vad.is_speech(pcm.audio[o:o + size]) for o in range(0, len(pcm.audio) - size + 1, size)]
    first = voiced.index(True) if True in voiced else len(voiced)
    last = len(voiced) - 1 - voiced[::-1].index(True) if True in voiced else -1
    runs, run = [], 0
    for flag in voiced[first:last + 1]:
        if flag:
            if run:
                runs.append(run * vad.frame_ms)
            run = 0
        else:
            run += 1
    return runs


def trimmed(pcm: Pcm, margin_s: float = 0.05) -> Pcm:
    """``pcm`` from its first to its last sound above the room's noise (-41 dBFS), with a margin:
    the pause given between two parts is then the pause heard."""
    loud = np.nonzero(np.abs(pcm.samples()) > SOUND_FLOOR)[0]
    if not len(loud):
        return pcm
    first = max(0, int(loud[0] - margin_s * pcm.rate_hz))
    last = min(len(pcm.samples()), int(loud[-1] + margin_s * pcm.rate_hz))
    return Pcm(pcm.audio[2 * first:2 * last], pcm.rate_hz)


def join(*parts: Pcm | float) -> Pcm:
    out = Pcm.silence(0.5)
    for part in parts:
        out = out + (trimmed(part) if isinstance(part, Pcm) else Pcm.silence(part))
    return out + Pcm.silence(0.3)


def recordings(espeak: EspeakSpeaker | None) -> tuple[list[tuple[str, str, Pcm, int]], dict[str, Pcm]]:
    """(kind, name, audio, turns a person means) per recording; and the human clips by name."""
    human = {clip.path.stem: read_wav(clip.path) for clip in human_set()}
    out = [("human", name, Pcm.silence(0.5) + pcm + Pcm.silence(0.3), 1) for name, pcm in human.items()]
    book = [human[f"librivox_{n}"] for n in ("0880", "0890", "0920", "0930")]
    out += [("human, joined", "librivox 0880 + 0.6 s + 0890", join(book[0], 0.6, book[1]), 1),
            ("human, joined", "librivox 0880 + 0.9 s + 0890", join(book[0], 0.9, book[1]), 1),
            ("human, joined", "librivox 0920 + 0.7 s + 0930", join(book[2], 0.7, book[3]), 1),
            ("human, joined", "librivox 0880, 0890, 0930 with 0.8 s pauses",
             join(book[0], 0.8, book[1], 0.8, book[3]), 1),
            ("human, joined", "cards 001 + 0.7 s + 003 (a list)",
             join(human["cards_001"], 0.7, human["cards_003"]), 1)]
    if espeak is None:
        return out, human

    def say(text: str) -> Pcm:
        return espeak.speak(Sentence("pause.wav", text, ("-v", "en-us", "-s", "175")))

    for gap in (0.6, 0.9):
        out.append(("synthetic", f"Set a timer. + {gap} s + For ten minutes.",
                    join(say("Set a timer."), gap, say("For ten minutes.")), 1))
    out += [("synthetic", "Roses are red. Violets are blue. Sugar is sweet. (0.7 s pauses)",
             join(say("Roses are red."), 0.7, say("Violets are blue."), 0.7, say("Sugar is sweet.")), 1),
            ("synthetic", "Turn on the kitchen lights and + 0.7 s + the hallway lamp.",
             join(say("Turn on the kitchen lights and"), 0.7, say("the hallway lamp.")), 1),
            ("synthetic", "My sister is visiting. + 0.7 s + What should we cook tonight?",
             join(say("My sister is visiting."), 0.7, say("What should we cook tonight?")), 1),
            ("synthetic", "What time is it? (ordinary)", join(say("What time is it?")), 1),
            ("synthetic", "Turn on the kitchen lights. (ordinary)", join(say("Turn on the kitchen lights.")), 1),
            ("synthetic", "What time is it? + 2 s + Turn off the bedroom lamp. (two requests)",
             join(say("What time is it?"), 2.0, say("Turn off the bedroom lamp.")), 2)]
    return out, human


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stt-model", default="", help="stt.model (default: the config's default)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    config = load_config(None, env={}, overrides={"stt.model": args.stt_model} if args.stt_model else {})
    stt = WhisperStt(resolved_stt(config))
    stt.transcribe(Pcm.silence(1.0))  # warm
    recs, human = recordings(EspeakSpeaker.find())
    rows = []
    for kind, name, pcm, meant in recs:
        before = turns_of(pcm, config, stt, judge_before)
        after = turns_of(pcm, config, stt, judge_after)
        rows.append({"kind": kind, "name": name, "meant": meant, "before": [dataclasses.asdict(t) for t in before],
                     "after": [dataclasses.asdict(t) for t in after]})
        print(f"{name}: {len(before)} -> {len(after)} turns: {[t.text for t in after]}", file=sys.stderr)
    pauses = [p for pcm in human.values() for p in inner_pauses_ms(pcm, config)]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"STT {stt.name}")
    print("command: scripts/bench_pauses.py" + (f" --stt-model {args.stt_model}" if args.stt_model else ""))
    print(f"natural pauses inside the {len(human)} human clips (VAD-silent runs between voiced frames): "
          f"{len(pauses)}, median {statistics.median(pauses):.0f} ms, longest {max(pauses):.0f} ms, "
          f"{sum(p >= 150 for p in pauses)} of them ≥ 150 ms\n" if pauses else "no inner pauses\n")
    print("| recording | meant | turns before | turns after | after: how the last turn ended, "
          "end of speech |")
    print("|---|---|---|---|---|")
    for row in rows:
        last = row["after"][-1] if row["after"] else None
        ending = f"{last['reason']}, {last['end_of_speech_ms']:.0f} ms" if last else "-"
        print(f"| {row['kind']}: {row['name']} | {row['meant']} | {len(row['before'])} | "
              f"{len(row['after'])} | {ending} |")
    for kind in ("before", "after"):
        right = sum(len(r[kind]) == r["meant"] for r in rows)
        print(f"\n{kind}: {right} of {len(rows)} recordings became the turns a person meant", end="")
    print()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
