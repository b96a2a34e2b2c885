"""`manage.py listen [--seconds N | --until-silence] [--device INDEX] [--list-devices] [--json]`:
classify speech from this machine's microphone, one line per utterance, until Ctrl-C."""
import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml import SAMPLE_RATE, AudioError, ModelError, Predictor
from ml.capture import CaptureError, Microphone, list_devices, record, record_until_silence
from ml.segment import SILENCE


class Command(BaseCommand):
    help = ("Record from the microphone (PyAudio) and print the emotion of each utterance as it "
            "ends, until Ctrl-C.")

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--until-silence", action="store_true",
                          help="one utterance = speech up to ~1 s of silence (the default)")
        mode.add_argument("--seconds", type=float, metavar="N",
                          help="classify fixed N-second recordings instead")
        parser.add_argument("--device", type=int, metavar="INDEX",
                            help="input device (see --list-devices; default: the system default)")
        parser.add_argument("--list-devices", action="store_true", help="list input devices")
        parser.add_argument("--json", action="store_true", help="one JSON object per line")
        parser.add_argument("--count", type=int, metavar="K",
                            help="stop after K utterances (default: run until Ctrl-C)")
        parser.add_argument("--max-seconds", type=float, default=30.0, metavar="S",
                            help="longest utterance in --until-silence mode (default 30)")

    def handle(self, *args, **opts):
        if opts["seconds"] is not None and not 0.5 <= opts["seconds"] <= 600:
            raise CommandError("--seconds must be between 0.5 and 600.")
        try:
            if opts["list_devices"]:
                return self._list(opts["json"])
            predictor = Predictor.from_path(settings.SER_MODEL_PATH)
            with Microphone(opts["device"]) as mic:
                self.stderr.write(f"Listening on {mic.name} (Ctrl-C to stop)…")
                self._loop(mic, predictor, opts)
        except (CaptureError, ModelError) as exc:
            raise CommandError(str(exc))
        except KeyboardInterrupt:
            self.stderr.write("Stopped.")

    def _list(self, as_json):
        devices = list_devices()
        if not devices:
            raise CaptureError("No audio input device found.")
        for d in devices:
            if as_json:
                self.stdout.write(json.dumps(vars(d)))
            else:
                mark = "*" if d.is_default else " "
                self.stdout.write(f"{mark}{d.index:>3}  {d.name}  ({d.channels} ch, "
                                  f"{d.default_rate:.0f} Hz)")

    def _loop(self, mic, predictor, opts):
        number = 0
        while opts["count"] is None or number < opts["count"]:
            if opts["seconds"] is not None:
                samples = record(mic, opts["seconds"])
            else:
                samples = record_until_silence(mic, max_s=opts["max_seconds"])
                if not len(samples):
                    continue  # nothing said within max_seconds: keep waiting
            number += 1
            self.stdout.write(self._line(number, predictor, samples, opts["json"]))

    @staticmethod
    def _line(number, predictor, samples, as_json):
        result = {"utterance": number}
        try:
            result.update(predictor.analyse(samples)[0].to_dict())  # gated like uploads
        except AudioError:
            result.update(emotion=SILENCE, duration_s=round(len(samples) / SAMPLE_RATE, 3))
        if as_json:
            return json.dumps(result)
        if result["emotion"] == SILENCE:
            return f"#{number:<3} {SILENCE}"
        return (f"#{number:<3} {result['emotion']:<10} {result['confidence']:>4.0%}  "
                f"{result['gender']} · {result['duration_s']:.1f} s")
