"""`icp-migrate samples`: a synthetic legacy set to try the migration on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..wording import names, plural
from .output import guarded, out


def samples(
    out_dir: Annotated[Path, typer.Option("--out", help="folder to write the sample set to")],
    entities: Annotated[int, typer.Option(min=1, help="number of entities")] = 60,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same files)")] = 7,
) -> None:
    """Write a dirty synthetic legacy set in all three layouts, with its ground truth."""
    def body() -> None:
        from ..samples import generate

        result = generate(out_dir, entities=entities, seed=seed)
        files = [p.name for p in (*result.layouts.values(), result.ground_truth,
                                  result.accounts)]
        out.print(f"wrote {plural(result.records, 'record')} of "
                  f"{plural(result.entities, 'entity', 'entities')} to {out_dir}: "
                  f"{names(files, limit=len(files))} (seed {result.seed})",
                  highlight=False, soft_wrap=True)

    guarded(body)
