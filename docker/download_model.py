#!/usr/bin/env python3
"""Stages a HuggingFace model, or a model directory on disk, as size-balanced layer groups plus a
provenance file, in the layout that docker/Dockerfile copies into a KServe modelcar image.

Layout written under --output DIR (the Dockerfile uses DIR=/staging):
    DIR/g00 .. DIR/g15       one directory per layer slot; each holds some of the model's files at their
                             repo-relative paths (g01/original/params.json); unused slots stay empty
    DIR/meta/.provenance.json  repo, commit, layer groups, every file with size and sha256

HF mode (--model-id, --revision) needs huggingface_hub (imported only then); offline mode
(--local-dir) runs on a bare python3. Expected failures print one clear message and exit 1.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import fnmatch
import hashlib
import heapq
import json
import math
import os
import re
import shutil
import sys
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

# Must equal the number of `COPY --from=downloader /staging/gNN/` lines in docker/Dockerfile;
# test_download_model.py checks the two agree.
GROUP_SLOTS = 16
DEFAULT_MAX_LAYER_BYTES = 10 * 1024**3
DEFAULT_TOKEN_FILE = "/run/secrets/hf_token"
META_DIR = "meta"
# Each slot holds `models/...`, and the Dockerfile copies the slot to `/`: the `models` directory
# entry of every layer then comes from here with a fixed mtime, instead of being created by the
# COPY with the build's clock. So the same files give the same layer blob in any build (cpu and
# cuda variants, a rebuild), and the registry stores the weights once.
MODELS_DIR = "models"
PROVENANCE_FILE = ".provenance.json"
# Inside --output so that moving a downloaded file into its group is a rename, not a copy.
DOWNLOAD_DIR = ".download"
PROVENANCE_SCHEMA = 1
# Readable by any UID: KServe may run the modelcar and the runtime as non-root users.
FILE_MODE = 0o644
DIR_MODE = 0o755
# Fixed mtimes make the same files produce the same layer digests on every build.
STAGED_MTIME = int(os.environ.get("SOURCE_DATE_EPOCH", "0") or "0")
# Never model files: a git clone's object store and huggingface_hub's local_dir bookkeeping.
LOCAL_SKIP_DIRS = (".git", ".cache/huggingface")
HASH_CHUNK = 8 * 1024 * 1024
# ECR's current per-layer limit, quoted in the "too many groups" advice.
ECR_LAYER_LIMIT_BYTES = 52_000 * 1024**2
REPO_ID_RE = re.compile(r"^(?:[A-Za-z0-9][\w.-]*/)?[A-Za-z0-9][\w.-]*$")
HUB_PIP_HINT = 'pip install "huggingface_hub==1.28.0" "hf_xet==1.5.2"'


class StageError(Exception):
    """An expected failure: the message names what is wrong, where, and the fix."""


@dataclass(frozen=True)
class ExpectedFile:
    path: str
    size: int
    # sha256 from the Hub's LFS metadata; None for small git-stored files and local sources.
    sha256: Optional[str] = None


@dataclass(frozen=True)
class StagedFile:
    path: str
    size: int
    sha256: str
    group: str


def slot_name(index: int) -> str:
    return f"g{index:02d}"


def staged_path(output: str, slot: str, path: str = "") -> str:
    """Where `path` (repo-relative, `/`-separated) of a slot (or META_DIR) is staged."""
    return os.path.join(output, slot, MODELS_DIR, *[p for p in path.split("/") if p])


def human_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def log(message: str) -> None:
    print(f"download_model: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Patterns: the same semantics as huggingface_hub's filter_repo_objects, so offline and HF mode
# select the same files and the HF mode's expected list matches what snapshot_download fetches.


def parse_patterns(text: Optional[str], flag: str) -> List[str]:
    if text is None or text.strip() == "":
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StageError(
            f"{flag} must be a JSON array of glob strings such as '[\"*.safetensors\", \"*.json\"]'; "
            f"got {text!r} ({exc.msg} at column {exc.colno})"
        ) from None
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise StageError(
            f"{flag} must be a JSON array of non-empty glob strings such as '[\"original/*\"]'; got {text!r}"
        )
    return value


def _normalize_pattern(pattern: str) -> str:
    pattern = pattern.replace("\\", "/")
    # A trailing slash means "everything in this directory", as in huggingface_hub.
    return pattern + "*" if pattern.endswith("/") else pattern


def filter_paths(paths: Iterable[str], include: Sequence[str], exclude: Sequence[str]) -> List[str]:
    """Keep paths matching any include pattern (all when there is none) and no exclude pattern."""
    inc = [_normalize_pattern(p) for p in include]
    exc = [_normalize_pattern(p) for p in exclude]
    kept = []
    for path in paths:
        if inc and not any(fnmatch.fnmatchcase(path, p) for p in inc):
            continue
        if any(fnmatch.fnmatchcase(path, p) for p in exc):
            continue
        kept.append(path)
    return kept


def check_repo_path(path: str, where: str) -> None:
    parts = path.split("/")
    if path.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise StageError(f"{where}: file path {path!r} is not a plain relative path; refusing to stage it")
    if path == PROVENANCE_FILE:
        raise StageError(
            f"{where}: the model has its own {PROVENANCE_FILE}, which would collide with the provenance "
            f"file this image writes at /models/{PROVENANCE_FILE}; exclude it with --exclude"
        )


# ---------------------------------------------------------------------------------------------
# Grouping


def _lpt(items: List[Tuple[str, int]], k: int) -> Tuple[List[List[str]], List[int]]:
    """Longest-processing-time-first: each file, largest first, goes to the least-loaded group."""
    groups: List[List[str]] = [[] for _ in range(k)]
    loads = [0] * k
    heap = [(0, i) for i in range(k)]
    for path, size in items:
        load, i = heapq.heappop(heap)
        groups[i].append(path)
        loads[i] = load + size
        heapq.heappush(heap, (loads[i], i))
    return groups, loads


def _plan(sizes: Dict[str, int], cap: int) -> List[List[str]]:
    # A file larger than the cap cannot be split, so it is a group of its own.
    big = sorted((p for p, s in sizes.items() if s > cap), key=lambda p: (-sizes[p], p))
    rest = sorted(((p, s) for p, s in sizes.items() if s <= cap), key=lambda ps: (-ps[1], ps[0]))
    groups: List[List[str]] = [[p] for p in big]
    if rest:
        total = sum(s for _, s in rest)
        # LPT can overshoot the cap with the minimum group count; one more group at a time
        # converges (at len(rest) groups every file is alone and fits).
        k = max(1, math.ceil(total / cap))
        while True:
            packed, loads = _lpt(rest, k)
            if max(loads) <= cap:
                break
            k += 1
        groups.extend(sorted((g for g in packed if g), key=lambda g: (-sum(sizes[p] for p in g), g[0])))
    return groups


def plan_groups(sizes: Dict[str, int], max_layer_bytes: int, slots: int = GROUP_SLOTS) -> List[List[str]]:
    """Split files into size-balanced groups of at most max_layer_bytes each (a file is never
    split; one larger than the cap is alone), failing when the Dockerfile has too few slots."""
    if max_layer_bytes <= 0:
        raise StageError(f"--max-layer-bytes must be a positive number of bytes; got {max_layer_bytes}")
    if not sizes:
        raise StageError("there are no files to stage")
    groups = _plan(sizes, max_layer_bytes)
    if len(groups) <= slots:
        return groups
    # Smallest cap that fits (binary search; total bytes always fit in one group).
    lo, hi = max_layer_bytes, sum(sizes.values())
    while lo < hi:
        mid = (lo + hi) // 2
        if len(_plan(sizes, mid)) <= slots:
            hi = mid
        else:
            lo = mid + 1
    raise StageError(
        f"the model ({human_bytes(sum(sizes.values()))} in {len(sizes)} files) needs {len(groups)} layer "
        f"groups of at most {human_bytes(max_layer_bytes)} ({max_layer_bytes} bytes), but docker/Dockerfile "
        f"has {slots} group slots; raise --max-layer-bytes (the MAX_LAYER_BYTES build arg) to at least "
        f"{hi} bytes ({human_bytes(hi)}; ECR accepts layers up to {ECR_LAYER_LIMIT_BYTES} bytes)"
    )


# ---------------------------------------------------------------------------------------------
# Verification


def verify_staged(expected: Dict[str, ExpectedFile], staged: Dict[str, StagedFile]) -> List[str]:
    problems = []
    for path in sorted(expected):
        want = expected[path]
        got = staged.get(path)
        if got is None:
            problems.append(f"{path}: expected {want.size} bytes but the file is missing")
        elif got.size != want.size:
            problems.append(f"{path}: expected {want.size} bytes but got {got.size} (truncated or changed download)")
        elif want.sha256 is not None and got.sha256 != want.sha256.lower():
            problems.append(f"{path}: sha256 {got.sha256} does not match the Hub's {want.sha256}")
    return problems


def safetensors_index_problems(paths: Iterable[str], read_text: Callable[[str], str]) -> List[str]:
    """Every shard that a *.safetensors.index.json weight_map names must be staged too."""
    present = set(paths)
    problems = []
    for index in sorted(p for p in present if p.endswith(".safetensors.index.json")):
        try:
            data = json.loads(read_text(index))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(f"{index}: not readable JSON ({exc})")
            continue
        weight_map = data.get("weight_map") if isinstance(data, dict) else None
        if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
            problems.append(f"{index}: has no weight_map object of tensor name -> shard file")
            continue
        base = index.rsplit("/", 1)[0] + "/" if "/" in index else ""
        for shard in sorted(set(weight_map.values())):
            if base + shard not in present:
                problems.append(
                    f"{index}: lists shard {base + shard}, which is not staged "
                    "(missing upstream, or excluded by --include/--exclude)"
                )
    return problems


# ---------------------------------------------------------------------------------------------
# Sources


class LocalSource:
    """A model directory on disk (a fine-tuned model, or a test fixture)."""

    move = False

    def __init__(self, root: str, model_id: Optional[str], revision: Optional[str]):
        if not os.path.isdir(root):
            raise StageError(f"--local-dir {root!r} is not a directory")
        self.root = os.path.abspath(root)
        self.model_id = model_id
        self.revision = revision or "local"
        self.commit = self.revision

    def list_files(self, include: Sequence[str], exclude: Sequence[str]) -> Dict[str, ExpectedFile]:
        found: Dict[str, int] = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel_dir = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            rel_dir = "" if rel_dir == "." else rel_dir + "/"
            dirnames[:] = sorted(d for d in dirnames if (rel_dir + d) not in LOCAL_SKIP_DIRS)
            for d in dirnames:
                if os.path.islink(os.path.join(dirpath, d)):
                    raise StageError(
                        f"--local-dir: {rel_dir + d} is a symlink to a directory; copy the directory "
                        "in place (symlinks to files are followed)"
                    )
            for name in filenames:
                full = os.path.join(dirpath, name)
                try:
                    st = os.stat(full)  # follows symlinks, as in a huggingface_hub cache snapshot
                except OSError as exc:
                    raise StageError(f"--local-dir: cannot read {rel_dir + name}: {exc.strerror}") from None
                if not os.path.isfile(full):
                    raise StageError(f"--local-dir: {rel_dir + name} is not a regular file")
                found[rel_dir + name] = st.st_size
        kept = filter_paths(sorted(found), include, exclude)
        for path in kept:
            check_repo_path(path, f"--local-dir {self.root}")
        return {p: ExpectedFile(p, found[p]) for p in kept}

    def fetch(self, download_dir: str, include: Sequence[str], exclude: Sequence[str]) -> str:
        return self.root

    def describe(self) -> dict:
        return {"type": "local", "repo": self.model_id, "revision": self.revision, "commit": self.commit}


class HubSource:
    """A model repository on the HuggingFace Hub, pinned to the commit its revision resolves to."""

    move = True

    def __init__(self, model_id: str, revision: str, token: Optional[str]):
        if not REPO_ID_RE.match(model_id):
            raise StageError(f"--model-id {model_id!r} is not a HuggingFace repo id like 'org/name'")
        if not revision:
            raise StageError("--revision is empty: give a commit SHA (preferred) or a branch name")
        try:
            import huggingface_hub
            from huggingface_hub import errors as hub_errors
        except ImportError:
            raise StageError(
                f"HF mode needs huggingface_hub, which is not installed ({HUB_PIP_HINT}); "
                "or stage a model directory with --local-dir"
            ) from None
        self.hub = huggingface_hub
        self.errors = hub_errors
        self.model_id = model_id
        self.revision = revision
        self.token = token
        self.commit = ""

    def _call(self, what: str, fn: Callable[[], object]) -> object:
        def err(name: str) -> tuple:
            # Absent in some huggingface_hub releases; an empty tuple matches nothing.
            cls = getattr(self.errors, name, None)
            return (cls,) if isinstance(cls, type) else ()

        where = f"{what} {self.model_id}@{self.revision}"
        try:
            return fn()
        except err("GatedRepoError"):
            hint = "no token was given" if self.token is None else "the token has no access to it"
            raise StageError(
                f"{where}: the model is gated and {hint}; accept its terms at https://huggingface.co/"
                f"{self.model_id}, then set the token (pulumi config set --secret huggingface-token ...) "
                "and mark the model `gated: true`"
            ) from None
        except err("RepositoryNotFoundError"):
            raise StageError(
                f"{where}: no such model on the Hub, or it is private and "
                f"{'no token was given' if self.token is None else 'the token cannot see it'}; "
                "check the model id"
            ) from None
        except err("RevisionNotFoundError"):
            raise StageError(
                f"{where}: revision {self.revision!r} does not exist; use a commit SHA from "
                f"https://huggingface.co/{self.model_id}/commits/main"
            ) from None
        except err("HfHubHTTPError") as exc:
            raise StageError(f"{where}: the Hub refused the request: {_first_lines(exc)}") from None
        except err("XetDownloadError") as exc:
            raise StageError(f"{where}: the Xet transfer failed (retry the build): {_first_lines(exc)}") from None
        except OSError as exc:
            raise StageError(f"{where}: could not read from the Hub or write locally: {_first_lines(exc)}") from None
        except Exception as exc:
            # httpx's transport errors (connect, timeout) are not OSErrors; anything else is a bug.
            if type(exc).__module__.startswith("httpx"):
                raise StageError(f"{where}: could not reach the Hub ({type(exc).__name__}): {_first_lines(exc)}") from None
            raise

    def list_files(self, include: Sequence[str], exclude: Sequence[str]) -> Dict[str, ExpectedFile]:
        info = self._call(
            "model_info",
            lambda: self.hub.HfApi().model_info(
                self.model_id, revision=self.revision, files_metadata=True, token=self.token
            ),
        )
        self.commit = getattr(info, "sha", None) or ""
        if not re.fullmatch(r"[0-9a-f]{40}", self.commit):
            raise StageError(f"model_info {self.model_id}@{self.revision}: the Hub returned no commit SHA")
        log(f"{self.model_id}@{self.revision} is commit {self.commit}")
        siblings = {s.rfilename: s for s in (getattr(info, "siblings", None) or [])}
        kept = filter_paths(sorted(siblings), include, exclude)
        expected = {}
        for path in kept:
            check_repo_path(path, f"{self.model_id}@{self.commit}")
            sibling = siblings[path]
            lfs = getattr(sibling, "lfs", None)
            # For LFS/Xet files the LFS record is the content's size and hash by definition.
            size = lfs.size if lfs else sibling.size
            if size is None:
                raise StageError(
                    f"model_info {self.model_id}@{self.commit}: no size for {path}; the installed "
                    f"huggingface_hub did not return file metadata ({HUB_PIP_HINT})"
                )
            expected[path] = ExpectedFile(path, int(size), lfs.sha256 if lfs else None)
        return expected

    def fetch(self, download_dir: str, include: Sequence[str], exclude: Sequence[str]) -> str:
        # Downloading the resolved SHA, not the branch, keeps files and metadata from one commit.
        self._call(
            "snapshot_download",
            lambda: self.hub.snapshot_download(
                self.model_id,
                revision=self.commit,
                local_dir=download_dir,
                allow_patterns=list(include) or None,
                ignore_patterns=list(exclude) or None,
                token=self.token,
            ),
        )
        return download_dir

    def describe(self) -> dict:
        return {
            "type": "huggingface",
            "repo": self.model_id,
            "revision": self.revision,
            "commit": self.commit,
            "url": f"https://huggingface.co/{self.model_id}/tree/{self.commit}",
            "huggingface_hub": getattr(self.hub, "__version__", "unknown"),
        }


def _first_lines(exc: BaseException, n: int = 3) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " | ".join(text.splitlines()[:n])


def read_token(path: str) -> Optional[str]:
    """The token from the BuildKit secret file, or None when no secret was mounted."""
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            token = f.read().strip()
    except OSError as exc:
        raise StageError(f"cannot read the token file {path}: {exc.strerror}") from None
    return token or None


# ---------------------------------------------------------------------------------------------
# Staging


def _place(src: str, dest: str, move: bool) -> Tuple[int, str]:
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    if move:
        os.replace(src, dest)
        with open(dest, "rb") as f:
            while chunk := f.read(HASH_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    else:
        with open(src, "rb") as fin, open(dest, "wb") as fout:
            while chunk := fin.read(HASH_CHUNK):
                digest.update(chunk)
                fout.write(chunk)
                size += len(chunk)
    os.chmod(dest, FILE_MODE)
    return size, digest.hexdigest()


def _normalize_tree(root: str) -> None:
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            os.utime(os.path.join(dirpath, name), (STAGED_MTIME, STAGED_MTIME))
        os.chmod(dirpath, DIR_MODE)
        os.utime(dirpath, (STAGED_MTIME, STAGED_MTIME))


def prepare_output(output: str) -> None:
    if os.path.exists(output) and (not os.path.isdir(output) or os.listdir(output)):
        raise StageError(f"--output {output!r} exists and is not an empty directory; remove it or pick another")
    os.makedirs(output, exist_ok=True)
    for i in range(GROUP_SLOTS):
        os.makedirs(staged_path(output, slot_name(i)), exist_ok=True)
    os.makedirs(staged_path(output, META_DIR), exist_ok=True)


def stage_files(
    source_root: str, groups: List[List[str]], output: str, move: bool, workers: int
) -> Dict[str, StagedFile]:
    jobs = []
    for index, group in enumerate(groups):
        for path in group:
            jobs.append((path, slot_name(index)))
    staged: Dict[str, StagedFile] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            pool.submit(
                _place, os.path.join(source_root, *path.split("/")), staged_path(output, slot, path), move
            ): (path, slot)
            for path, slot in jobs
        }
        for future in concurrent.futures.as_completed(futures):
            path, slot = futures[future]
            try:
                size, sha = future.result()
            except FileNotFoundError:
                continue  # reported by verify_staged as missing
            except OSError as exc:
                raise StageError(f"staging {path} into {slot}: {exc.strerror or exc}") from None
            staged[path] = StagedFile(path, size, sha, slot)
    return staged


def build_provenance(
    source: dict,
    include: Sequence[str],
    exclude: Sequence[str],
    max_layer_bytes: int,
    groups: List[List[str]],
    staged: Dict[str, StagedFile],
) -> dict:
    return {
        "schemaVersion": PROVENANCE_SCHEMA,
        "source": source,
        "include": list(include),
        "exclude": list(exclude),
        "maxLayerBytes": max_layer_bytes,
        "totalBytes": sum(f.size for f in staged.values()),
        "layers": [
            {"slot": slot_name(i), "bytes": sum(staged[p].size for p in g), "files": len(g)}
            for i, g in enumerate(groups)
        ],
        "files": [
            {"path": f.path, "size": f.size, "sha256": f.sha256, "layer": f.group}
            for f in sorted(staged.values(), key=lambda f: f.path)
        ],
    }


def run(args: argparse.Namespace) -> dict:
    include = parse_patterns(args.include, "--include")
    exclude = parse_patterns(args.exclude, "--exclude")
    if args.max_layer_bytes <= 0:
        raise StageError(f"--max-layer-bytes must be a positive number of bytes; got {args.max_layer_bytes}")
    if args.local_dir:
        source = LocalSource(args.local_dir, args.model_id, args.revision)
    else:
        if not args.model_id:
            raise StageError("give --model-id ORG/NAME (the MODEL_ID build arg) or --local-dir DIR")
        source = HubSource(args.model_id, args.revision or "main", read_token(args.token_file))

    expected = source.list_files(include, exclude)
    if not expected:
        raise StageError(
            f"no files of {args.local_dir or args.model_id} match --include {json.dumps(include)} "
            f"and --exclude {json.dumps(exclude)}"
        )
    # Planned from metadata before downloading, so a model that cannot fit fails in seconds.
    groups = plan_groups({p: e.size for p, e in expected.items()}, args.max_layer_bytes)
    for i, g in enumerate(groups):
        size = sum(expected[p].size for p in g)
        log(f"layer {slot_name(i)}: {len(g)} files, {human_bytes(size)}")

    output = os.path.abspath(args.output)
    prepare_output(output)
    download_dir = os.path.join(output, DOWNLOAD_DIR)
    root = source.fetch(download_dir, include, exclude)
    workers = max(1, min(8, os.cpu_count() or 1))
    staged = stage_files(root, groups, output, source.move, workers)

    def read_staged(path: str) -> str:
        with open(staged_path(output, staged[path].group, path), encoding="utf-8") as f:
            return f.read()

    problems = verify_staged(expected, staged) + safetensors_index_problems(staged, read_staged)
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise StageError(f"verification of {len(expected)} files failed:\n  {shown}{more}")

    if os.path.isdir(download_dir):
        shutil.rmtree(download_dir)
    provenance = build_provenance(source.describe(), include, exclude, args.max_layer_bytes, groups, staged)
    with open(staged_path(output, META_DIR, PROVENANCE_FILE), "w", encoding="utf-8") as f:
        json.dump(provenance, f, indent=2, sort_keys=True)
        f.write("\n")
    os.chmod(staged_path(output, META_DIR, PROVENANCE_FILE), FILE_MODE)
    _normalize_tree(output)
    log(
        f"staged {len(staged)} files ({human_bytes(provenance['totalBytes'])}) of "
        f"{provenance['source']['repo'] or args.local_dir}@{provenance['source']['commit']} "
        f"in {len(groups)} of {GROUP_SLOTS} layer slots under {output}"
    )
    return provenance


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-id", help="HuggingFace repo id (org/name); recorded as the source in offline mode")
    parser.add_argument("--revision", help="commit SHA or branch (HF mode, default main); recorded as given in offline mode (default 'local')")
    parser.add_argument("--local-dir", help="stage this model directory instead of downloading (offline mode)")
    parser.add_argument("--output", required=True, help="staging directory to create (must be absent or empty)")
    parser.add_argument("--include", default="[]", help="JSON array of globs to keep (default: all files)")
    parser.add_argument("--exclude", default="[]", help="JSON array of globs to drop")
    parser.add_argument(
        "--max-layer-bytes",
        type=int,
        default=DEFAULT_MAX_LAYER_BYTES,
        help=f"largest layer group in bytes (default {DEFAULT_MAX_LAYER_BYTES}); a larger single file gets its own layer",
    )
    parser.add_argument("--token-file", default=DEFAULT_TOKEN_FILE, help="HuggingFace token file (optional)")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except StageError as exc:
        print(f"download_model: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
