"""Runs a preset on local files with the product's engine: no server, no database writes for
local operations. ``manage.py enhance photos/*.jpg --preset bright-airy --out edited/``"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from imaging import decode
from imaging.engine import run_pipeline
from imaging.ops import OperationContext, validate_operations
from photolisting.cli import progress_bar
from photolisting.errors import ApplicationError
from processing.services import PRESETS_FILE
from projects.problems import problem_message


class Command(BaseCommand):
    help = "Enhance local photos with a preset and write the results to a folder."

    def add_arguments(self, parser) -> None:
        parser.add_argument("inputs", nargs="+", help="Photo files (JPEG, PNG, WebP, HEIC, TIFF).")
        parser.add_argument("--preset", help="Slug or name of a shipped preset, e.g. bright-airy.")
        parser.add_argument("--operations", help="Or a JSON operation list, or @file.json.")
        parser.add_argument("--out", required=True, help="Folder for the results.")

    def handle(self, *args, inputs, preset, operations, out, **options) -> None:
        pipeline = self._pipeline(preset, operations)
        if pipeline.ai_steps or pipeline.needs_brackets:
            raise CommandError("enhance runs local, single-photo presets; use jobs for AI and HDR.")
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        files = [Path(name) for name in inputs]
        started, failures = time.monotonic(), 0
        for index, path in enumerate(files):
            sys.stderr.write(progress_bar(index, len(files), path.name, started))
            sys.stderr.flush()
            try:
                image, icc = decode.decode_upright(
                    path.read_bytes(), max_pixels=settings.PHOTO_MAX_PIXELS
                )
                encoded = run_pipeline(
                    np.asarray(image), pipeline, OperationContext(icc_profile=icc)
                )
            except decode.ImageRejected as rejection:
                failures += 1
                self.stderr.write(f"\n{path}: {problem_message(rejection.code)}")
                continue
            except (OSError, ValueError) as error:
                failures += 1
                self.stderr.write(f"\n{path}: {error}")
                continue
            target = out_dir / f"{path.stem}.{encoded.format.lower().replace('jpeg', 'jpg')}"
            target.write_bytes(encoded.data)
        sys.stderr.write(progress_bar(len(files), len(files), "done", started) + "\n")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(files) - failures} of {len(files)} photos written to {out_dir}"
            )
        )
        if failures:
            raise CommandError(f"{failures} photo(s) could not be processed")

    def _pipeline(self, preset: str | None, operations: str | None):
        if bool(preset) == bool(operations):
            raise CommandError("give either --preset or --operations")
        try:
            if operations:
                raw = Path(operations[1:]).read_text() if operations.startswith("@") else operations
                return validate_operations(json.loads(raw))
            shipped = json.loads(PRESETS_FILE.read_text())
            match = next((p for p in shipped if preset in (p["slug"], p["name"])), None)
            if match is None:
                names = ", ".join(p["slug"] for p in shipped)
                raise CommandError(f"no preset {preset!r}; shipped presets: {names}")
            return validate_operations(match["operations"])
        except json.JSONDecodeError as error:
            raise CommandError(f"--operations is not valid JSON: {error}") from error
        except ApplicationError as error:
            raise CommandError(f"{error.message} {json.dumps(error.details)}") from error
