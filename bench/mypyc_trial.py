"""Trial, not adopted: the replay's hot modules compiled with mypyc, measured against the same
tree interpreted (docs/PERFORMANCE.md, "Replay", lever 13, says why it was not adopted).

Copies the working tree (tracked files as they are on disk) to a temporary directory, compiles
MODULES there with mypyc, and runs bench/replay.py on that copy (``--tree``), keeping each
replay's output so it can be compared byte for byte with the interpreted tree's. The project
itself ships no compiled module, so mypy is not in the lock: ``pip install mypy`` first (mypyc
comes with it; it needs gcc and Python.h). Run: python bench/mypyc_trial.py [--events N]
[--keep DIR] [--only simulated|independent] [MODULE.py ...]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The modules that type-check clean for mypyc (validation, packing, the fold): together 80 % of
# an interpreted replay's samples on the simulated file. kpis.py, units.py and clocks.py are
# left out: compiled as they are, int counts come out as floats (see docs/PERFORMANCE.md).
MODULES = (
    "streams/contract/fast_validate.py", "streams/contract/validate.py", "streams/contract/decode.py",
    "streams/contract/personal_id.py", "streams/core/packed_replay.py", "streams/core/facts.py",
    "streams/core/replay.py", "streams/core/case_budget.py", "streams/core/timeutil.py",
)


def copy_tree(target: Path) -> None:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("modules", nargs="*", default=list(MODULES))
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("simulated", "independent"))
    parser.add_argument("--keep", type=Path, help="build the compiled copy here and keep it")
    args = parser.parse_args()
    if shutil.which("mypyc") is None:
        raise SystemExit("mypyc not found: pip install mypy (not a project dependency; see the docstring)")
    tree = args.keep or Path(tempfile.mkdtemp(prefix="casewatch-mypyc-"))
    tree.mkdir(parents=True, exist_ok=True)
    copy_tree(tree)
    subprocess.run(["mypyc", *args.modules], cwd=tree, check=True, stdout=subprocess.DEVNULL)
    built = sorted(p.relative_to(tree) for p in tree.glob("streams/**/*.so"))
    if len(built) != len(args.modules):
        raise SystemExit(f"expected {len(args.modules)} compiled modules, found {len(built)}")
    common = ["--events", str(args.events)] + (["--only", args.only] if args.only else [])
    print(f"interpreted: {ROOT}", flush=True)
    subprocess.run([sys.executable, str(ROOT / "bench" / "replay.py"), *common,
                    "--outputs", str(tree / "outputs-interpreted")], check=True)
    print(f"compiled ({len(built)} modules): {tree}", flush=True)
    subprocess.run([sys.executable, str(ROOT / "bench" / "replay.py"), *common, "--tree", str(tree),
                    "--outputs", str(tree / "outputs-compiled")], check=True)
    for name in sorted(p.name for p in (tree / "outputs-interpreted").iterdir()):
        same = (tree / "outputs-interpreted" / name).read_bytes() == (tree / "outputs-compiled" / name).read_bytes()
        print(f"{name}: output {'byte for byte the same' if same else 'DIFFERS'}")
    if args.keep is None:
        shutil.rmtree(tree)


if __name__ == "__main__":
    main()
