"""Tests download_model.py: grouping, pattern filtering, verification, provenance, offline staging,
and the HF mode against a stand-in for huggingface_hub's API (stdlib unittest only)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import types
import unittest
from typing import Dict, List, Optional
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "download_model.py")
sys.path.insert(0, HERE)

import download_model as dm  # noqa: E402

FAKE_TOKEN = "hf_test-token-not-real"
SHA = "0123456789abcdef0123456789abcdef01234567"


def run_main(argv: List[str]):
    """Runs main() in-process; returns (exit code, stderr)."""
    err = io.StringIO()
    out = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = dm.main(argv)
    return code, err.getvalue() + out.getvalue()


def write(root: str, rel: str, data: bytes) -> None:
    path = os.path.join(root, *rel.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def index_json(shards: List[str]) -> bytes:
    return json.dumps(
        {"metadata": {"total_size": 1}, "weight_map": {f"layer.{i}.weight": s for i, s in enumerate(shards)}}
    ).encode()


def tiny_model() -> Dict[str, bytes]:
    shards = [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
    return {
        "config.json": b'{"model_type": "llama"}',
        "tokenizer.json": b'{"version": "1.0"}',
        shards[0]: os.urandom(3000),
        shards[1]: os.urandom(2000),
        shards[2]: os.urandom(1200),
        "model.safetensors.index.json": index_json(shards),
        "original/params.json": b'{"dim": 64}',
    }


def staged_tree(output: str) -> Dict[str, str]:
    """Repo path -> slot for every file in the staging slots."""
    found = {}
    for slot in sorted(os.listdir(output)):
        if not re.fullmatch(r"g\d\d", slot):
            continue
        base = dm.staged_path(output, slot)
        for dirpath, _, filenames in os.walk(base):
            for name in filenames:
                rel = os.path.relpath(os.path.join(dirpath, name), base).replace(os.sep, "/")
                found[rel] = slot
    return found


class GroupingTest(unittest.TestCase):
    def check_plan(self, sizes: Dict[str, int], cap: int, groups: List[List[str]]) -> None:
        flat = [p for g in groups for p in g]
        self.assertEqual(sorted(flat), sorted(sizes), "every file in exactly one group")
        self.assertEqual(len(flat), len(set(flat)))
        for g in groups:
            self.assertTrue(g, "no empty group")
            total = sum(sizes[p] for p in g)
            if total > cap:
                self.assertEqual(len(g), 1, f"only a single oversized file may exceed the cap: {g}")

    def test_table(self):
        cases = [
            # (name, sizes, cap, expected group count, expected largest group)
            ("one small model fits one layer", {"a": 3, "b": 4, "c": 1}, 10, 1, 8),
            ("two balanced groups", {"a": 6, "b": 5, "c": 4, "d": 3, "e": 2, "f": 2}, 11, 2, 11),
            # LPT with ceil(22/11)=2 groups puts 13 in one; one more group fixes it.
            ("greedy overshoot adds a group", {"a": 5, "b": 5, "c": 4, "d": 4, "e": 4}, 11, 3, 9),
            ("oversized file is alone", {"big": 25, "x": 4, "y": 4, "z": 1}, 10, 2, 25),
            ("two oversized files", {"big1": 30, "big2": 20, "s": 1}, 10, 3, 30),
            ("exact fit", {"a": 10, "b": 10}, 10, 2, 10),
            ("zero-byte files", {"a": 0, "b": 0, "c": 5}, 5, 1, 5),
        ]
        for name, sizes, cap, count, largest in cases:
            with self.subTest(name):
                groups = dm.plan_groups(sizes, cap)
                self.check_plan(sizes, cap, groups)
                self.assertEqual(len(groups), count)
                self.assertEqual(max(sum(sizes[p] for p in g) for g in groups), largest)

    def test_balanced_and_ordered(self):
        sizes = {f"model-{i:05d}.safetensors": 4_900_000_000 for i in range(1, 6)}
        sizes.update({"config.json": 700, "tokenizer.json": 9_000_000, "generation_config.json": 200})
        groups = dm.plan_groups(sizes, dm.DEFAULT_MAX_LAYER_BYTES)
        self.check_plan(sizes, dm.DEFAULT_MAX_LAYER_BYTES, groups)
        self.assertEqual(len(groups), 3)
        loads = [sum(sizes[p] for p in g) for g in groups]
        self.assertEqual(loads, sorted(loads, reverse=True), "largest group first")
        # Small files share a group instead of taking layers of their own.
        self.assertEqual(len({i for i, g in enumerate(groups) for p in g if p.endswith(".json")}), 1)

    def test_deterministic(self):
        sizes = {f"f{i}": (i * 7919) % 1000 + 1 for i in range(60)}
        reordered = dict(reversed(list(sizes.items())))
        self.assertEqual(dm.plan_groups(sizes, 2500), dm.plan_groups(reordered, 2500))

    def test_too_many_groups_names_numbers_and_fix(self):
        sizes = {f"shard-{i:02d}": 10 for i in range(17)}
        with self.assertRaises(dm.StageError) as ctx:
            dm.plan_groups(sizes, 10)
        msg = str(ctx.exception)
        self.assertIn("needs 17 layer groups", msg)
        self.assertIn("16 group slots", msg)
        self.assertIn("--max-layer-bytes", msg)
        # 17 files of 10 bytes fit 16 slots once one group may hold two files.
        self.assertIn("at least 20 bytes", msg)
        self.assertEqual(len(dm.plan_groups(sizes, 20)), 9)

    def test_rejects_bad_cap_and_empty(self):
        with self.assertRaises(dm.StageError):
            dm.plan_groups({"a": 1}, 0)
        with self.assertRaises(dm.StageError):
            dm.plan_groups({}, 10)

    def test_dockerfile_has_one_copy_per_slot(self):
        with open(os.path.join(HERE, "Dockerfile"), encoding="utf-8") as f:
            text = f.read()
        final = text.split("\nFROM ${BASE_IMAGE}", 1)
        self.assertEqual(len(final), 2, "the final stage starts with FROM ${BASE_IMAGE}")
        # To `/`: each slot brings its own `models/` directory (fixed mtime, reproducible layers).
        slots = re.findall(r"^COPY --from=downloader \S* ?/staging/(g\d\d)/ /$", final[1], re.M)
        self.assertEqual(slots, [dm.slot_name(i) for i in range(dm.GROUP_SLOTS)])
        self.assertRegex(final[1], r"(?m)^COPY --from=downloader \S* ?/staging/meta/ /$")
        self.assertNotRegex(final[1], r"(?m)^RUN\b", "the final stage must not need emulation")


class PatternTest(unittest.TestCase):
    PATHS = ["config.json", "model.safetensors", "original/params.json", "original/consolidated.00.pth", "README.md"]

    def test_filter(self):
        cases = [
            ([], [], self.PATHS),
            (["*.json"], [], ["config.json", "original/params.json"]),
            ([], ["original/"], ["config.json", "model.safetensors", "README.md"]),
            ([], ["original/*", "*.md"], ["config.json", "model.safetensors"]),
            (["*.safetensors", "*.json"], ["original/*"], ["config.json", "model.safetensors"]),
            (["*.JSON"], [], []),  # case-sensitive, like the Hub
        ]
        for include, exclude, want in cases:
            with self.subTest(include=include, exclude=exclude):
                self.assertEqual(dm.filter_paths(self.PATHS, include, exclude), want)

    def test_parse_patterns(self):
        self.assertEqual(dm.parse_patterns("[]", "--include"), [])
        self.assertEqual(dm.parse_patterns("", "--include"), [])
        self.assertEqual(dm.parse_patterns('["*.pth", "original/*"]', "--exclude"), ["*.pth", "original/*"])
        for bad in ["*.pth", '{"a": 1}', '["ok", 3]', '[""]']:
            with self.subTest(bad=bad), self.assertRaises(dm.StageError) as ctx:
                dm.parse_patterns(bad, "--exclude")
            self.assertIn("--exclude must be a JSON array", str(ctx.exception))


class VerificationTest(unittest.TestCase):
    def test_verify_staged(self):
        expected = {
            "a.safetensors": dm.ExpectedFile("a.safetensors", 4, hashlib.sha256(b"good").hexdigest()),
            "b.json": dm.ExpectedFile("b.json", 2),
            "c.json": dm.ExpectedFile("c.json", 3),
        }
        good = {
            "a.safetensors": dm.StagedFile("a.safetensors", 4, hashlib.sha256(b"good").hexdigest(), "g00"),
            "b.json": dm.StagedFile("b.json", 2, "x", "g01"),
            "c.json": dm.StagedFile("c.json", 3, "y", "g01"),
        }
        self.assertEqual(dm.verify_staged(expected, good), [])

        bad = dict(good)
        del bad["c.json"]
        bad["b.json"] = dm.StagedFile("b.json", 1, "x", "g01")
        bad["a.safetensors"] = dm.StagedFile("a.safetensors", 4, hashlib.sha256(b"evil").hexdigest(), "g00")
        problems = dm.verify_staged(expected, bad)
        self.assertEqual(len(problems), 3, problems)
        self.assertIn("a.safetensors: sha256", problems[0])
        self.assertIn("b.json: expected 2 bytes but got 1", problems[1])
        self.assertIn("c.json: expected 3 bytes but the file is missing", problems[2])

    def test_safetensors_index(self):
        files = {
            "model.safetensors.index.json": index_json(["m-1.safetensors", "m-2.safetensors", "m-1.safetensors"]),
            "m-1.safetensors": b"",
            "sub/model.safetensors.index.json": index_json(["s-1.safetensors"]),
            "sub/s-1.safetensors": b"",
        }
        read = lambda p: files[p].decode()  # noqa: E731
        problems = dm.safetensors_index_problems(files, read)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("model.safetensors.index.json: lists shard m-2.safetensors", problems[0])

        del files["sub/s-1.safetensors"]
        problems = dm.safetensors_index_problems(files, read)
        self.assertTrue(any("sub/model.safetensors.index.json: lists shard sub/s-1.safetensors" in p for p in problems))

    def test_malformed_index(self):
        files = {"a.safetensors.index.json": b"{not json", "b.safetensors.index.json": b'{"metadata": {}}'}
        problems = dm.safetensors_index_problems(files, lambda p: files[p].decode())
        self.assertEqual(len(problems), 2)
        self.assertIn("a.safetensors.index.json: not readable JSON", problems[0])
        self.assertIn("b.safetensors.index.json: has no weight_map", problems[1])


class OfflineStagingTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.src = os.path.join(self.tmp.name, "model")
        self.out = os.path.join(self.tmp.name, "ctx", "staging")
        self.files = tiny_model()
        for rel, data in self.files.items():
            write(self.src, rel, data)

    def tearDown(self):
        self.tmp.cleanup()

    def stage(self, *extra: str):
        return run_main(["--local-dir", self.src, "--output", self.out, "--model-id", "acme/tiny", *extra])

    def test_layout_modes_and_provenance(self):
        # A restrictive umask or source mode must not leak into the image.
        os.chmod(os.path.join(self.src, "config.json"), 0o600)
        old_umask = os.umask(0o077)
        try:
            code, log = self.stage("--max-layer-bytes", "2500", "--revision", SHA)
        finally:
            os.umask(old_umask)
        self.assertEqual(code, 0, log)

        self.assertEqual(
            sorted(os.listdir(self.out)), sorted([dm.slot_name(i) for i in range(dm.GROUP_SLOTS)] + ["meta"])
        )
        tree = staged_tree(self.out)
        self.assertEqual(sorted(tree), sorted(self.files))
        for rel, slot in tree.items():
            path = dm.staged_path(self.out, slot, rel)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), self.files[rel], rel)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o644, rel)
        for dirpath, _, _ in os.walk(self.out):
            self.assertEqual(stat.S_IMODE(os.stat(dirpath).st_mode), 0o755, dirpath)

        # 3000 > 2500 is alone; 2000 and 1200 + small files need two more groups.
        used = sorted(set(tree.values()))
        self.assertEqual(used, ["g00", "g01", "g02"])
        self.assertEqual([r for r, s in tree.items() if s == "g00"], ["model-00001-of-00003.safetensors"])

        with open(dm.staged_path(self.out, "meta", ".provenance.json"), encoding="utf-8") as f:
            prov = json.load(f)
        self.assertEqual(prov["source"], {"type": "local", "repo": "acme/tiny", "revision": SHA, "commit": SHA})
        self.assertEqual(prov["maxLayerBytes"], 2500)
        self.assertEqual(prov["totalBytes"], sum(len(b) for b in self.files.values()))
        self.assertEqual([layer["slot"] for layer in prov["layers"]], used)
        self.assertEqual(sum(layer["files"] for layer in prov["layers"]), len(self.files))
        for entry in prov["files"]:
            data = self.files[entry["path"]]
            self.assertEqual(entry["size"], len(data))
            self.assertEqual(entry["sha256"], hashlib.sha256(data).hexdigest())
            self.assertEqual(entry["layer"], tree[entry["path"]])
        self.assertEqual([e["path"] for e in prov["files"]], sorted(self.files))

    def test_revision_defaults_to_local(self):
        code, log = self.stage()
        self.assertEqual(code, 0, log)
        with open(dm.staged_path(self.out, "meta", ".provenance.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["source"]["commit"], "local")

    def test_skips_git_and_hub_bookkeeping_and_follows_file_symlinks(self):
        write(self.src, ".git/objects/pack/big.pack", b"x" * 100)
        write(self.src, ".cache/huggingface/download/config.json.metadata", b"meta")
        blob = os.path.join(self.tmp.name, "blob")
        with open(blob, "wb") as f:
            f.write(b"linked")
        os.symlink(blob, os.path.join(self.src, "vocab.txt"))
        code, log = self.stage()
        self.assertEqual(code, 0, log)
        self.assertEqual(sorted(staged_tree(self.out)), sorted(list(self.files) + ["vocab.txt"]))

    def test_missing_shard_fails_without_traceback(self):
        code, log = self.stage("--exclude", '["model-00002-of-00003.safetensors"]')
        self.assertEqual(code, 1)
        self.assertIn("model.safetensors.index.json: lists shard model-00002-of-00003.safetensors", log)
        self.assertNotIn("Traceback", log)

    def test_include_filters_and_empty_selection_fails(self):
        code, log = self.stage("--include", '["*.json"]')
        self.assertEqual(code, 1, "the index names shards that the include pattern dropped")
        self.assertIn("lists shard", log)

        code, log = run_main(["--local-dir", self.src, "--output", self.out + "2", "--include", '["*.gguf"]'])
        self.assertEqual(code, 1)
        self.assertIn('no files of', log)
        self.assertIn('--include ["*.gguf"]', log)

    def test_refuses_non_empty_output_and_provenance_collision(self):
        os.makedirs(self.out)
        write(self.out, "leftover", b"x")
        code, log = self.stage()
        self.assertEqual(code, 1)
        self.assertIn("is not an empty directory", log)

        write(self.src, ".provenance.json", b"{}")
        code, log = run_main(["--local-dir", self.src, "--output", self.out + "2"])
        self.assertEqual(code, 1)
        self.assertIn("collide", log)

    def test_runs_on_bare_python_without_huggingface_hub(self):
        # -I -S: no site-packages, so huggingface_hub cannot be imported even if installed; -B: no
        # __pycache__ in docker/ (-I ignores PYTHONDONTWRITEBYTECODE).
        probe = "import download_model, sys; download_model.main(sys.argv[1:]); print(sorted(m for m in sys.modules if m.startswith('huggingface_hub')))"
        proc = subprocess.run(
            [sys.executable, "-I", "-S", "-B", "-c", f"import sys; sys.path.insert(0, {HERE!r}); {probe}",
             "--local-dir", self.src, "--output", self.out, "--max-layer-bytes", "4000"],
            capture_output=True, text=True, timeout=60,
        )
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.strip(), "[]")
        self.assertIn("in 2 of 16 layer slots", proc.stderr)

    def test_cli_exit_code_and_message(self):
        proc = subprocess.run(
            [sys.executable, SCRIPT, "--local-dir", os.path.join(self.tmp.name, "nope"), "--output", self.out],
            capture_output=True, text=True, timeout=60,
        )
        self.assertEqual(proc.returncode, 1)
        self.assertIn("--local-dir", proc.stderr)
        self.assertIn("is not a directory", proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)


class FakeHub:
    """Stands in for huggingface_hub 1.x: HfApi.model_info(files_metadata=True), snapshot_download
    and huggingface_hub.errors, with the shapes of the real ones (RepoSibling.size, .lfs.sha256)."""

    def __init__(self, files: Dict[str, bytes], lfs: Optional[set] = None, error: Optional[str] = None):
        self.files = files
        self.lfs = lfs if lfs is not None else {p for p in files if p.endswith(".safetensors")}
        self.error = error
        self.download_overrides: Dict[str, bytes] = {}
        self.calls: List[tuple] = []
        self.module = types.ModuleType("huggingface_hub")
        self.module.__version__ = "1.28.0"
        errors = types.ModuleType("huggingface_hub.errors")

        class HfHubHTTPError(OSError):
            pass

        class RepositoryNotFoundError(HfHubHTTPError):
            pass

        class GatedRepoError(RepositoryNotFoundError):
            pass

        class RevisionNotFoundError(HfHubHTTPError):
            pass

        class XetDownloadError(Exception):
            pass

        for cls in (HfHubHTTPError, RepositoryNotFoundError, GatedRepoError, RevisionNotFoundError, XetDownloadError):
            setattr(errors, cls.__name__, cls)
        self.errors = errors
        self.module.errors = errors
        fake = self

        class HfApi:
            def model_info(self, repo_id, *, revision=None, files_metadata=False, token=None, **_):
                fake.calls.append(("model_info", repo_id, revision, files_metadata, token))
                if fake.error:
                    raise getattr(errors, fake.error)(f"403 Client Error for {repo_id}")
                siblings = [
                    types.SimpleNamespace(
                        rfilename=p,
                        size=len(b),
                        blob_id="b" * 40,
                        lfs=types.SimpleNamespace(size=len(b), sha256=hashlib.sha256(b).hexdigest(), pointer_size=134)
                        if p in fake.lfs
                        else None,
                    )
                    for p, b in fake.files.items()
                ]
                return types.SimpleNamespace(id=repo_id, sha=SHA, siblings=siblings)

        def snapshot_download(repo_id, *, revision=None, local_dir=None, allow_patterns=None, ignore_patterns=None, token=None, **_):
            fake.calls.append(("snapshot_download", repo_id, revision, local_dir, allow_patterns, ignore_patterns, token))
            for p in dm.filter_paths(fake.files, allow_patterns or [], ignore_patterns or []):
                if p in fake.download_overrides and fake.download_overrides[p] is None:
                    continue
                write(local_dir, p, fake.download_overrides.get(p, fake.files[p]))
            write(local_dir, ".cache/huggingface/download/config.json.metadata", b"bookkeeping")
            return local_dir

        self.module.HfApi = HfApi
        self.module.snapshot_download = snapshot_download

    def installed(self):
        return mock.patch.dict(sys.modules, {"huggingface_hub": self.module, "huggingface_hub.errors": self.errors})


class HubModeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.tmp.name, "staging")
        self.token_file = os.path.join(self.tmp.name, "hf_token")
        with open(self.token_file, "w") as f:
            f.write(FAKE_TOKEN + "\n")
        self.files = tiny_model()
        self.files["original/consolidated.00.pth"] = os.urandom(500)

    def tearDown(self):
        self.tmp.cleanup()

    def stage(self, hub: FakeHub, *extra: str):
        argv = ["--model-id", "acme/tiny", "--revision", "main", "--output", self.out, "--token-file", self.token_file, *extra]
        with hub.installed():
            return run_main(argv)

    def test_resolves_downloads_verifies_and_records_commit(self):
        hub = FakeHub(self.files)
        code, log = self.stage(hub, "--exclude", '["original/*"]', "--max-layer-bytes", "4000")
        self.assertEqual(code, 0, log)
        self.assertEqual(hub.calls[0], ("model_info", "acme/tiny", "main", True, FAKE_TOKEN))
        name, repo, revision, local_dir, allow, ignore, token = hub.calls[1]
        self.assertEqual((name, repo, revision, allow, ignore, token), ("snapshot_download", "acme/tiny", SHA, None, ["original/*"], FAKE_TOKEN))
        self.assertTrue(local_dir.startswith(self.out))
        self.assertFalse(os.path.exists(local_dir), "the download directory is removed after staging")

        want = {p: b for p, b in self.files.items() if not p.startswith("original/")}
        tree = staged_tree(self.out)
        self.assertEqual(sorted(tree), sorted(want))
        with open(dm.staged_path(self.out, "meta", ".provenance.json"), encoding="utf-8") as f:
            prov = json.load(f)
        self.assertEqual(prov["source"]["type"], "huggingface")
        self.assertEqual(prov["source"]["revision"], "main")
        self.assertEqual(prov["source"]["commit"], SHA)
        self.assertEqual(prov["source"]["url"], f"https://huggingface.co/acme/tiny/tree/{SHA}")
        self.assertEqual(prov["exclude"], ["original/*"])
        self.assertEqual({e["path"]: e["sha256"] for e in prov["files"]}, {p: hashlib.sha256(b).hexdigest() for p, b in want.items()})
        self.assertNotIn(FAKE_TOKEN, log)

    def test_corrupt_truncated_and_missing_downloads_fail(self):
        shard = "model-00002-of-00003.safetensors"
        for label, override, message in [
            ("corrupt", os.urandom(2000), f"{shard}: sha256"),
            ("truncated", b"short", f"{shard}: expected 2000 bytes but got 5"),
            ("missing", None, f"{shard}: expected 2000 bytes but the file is missing"),
        ]:
            with self.subTest(label):
                hub = FakeHub(self.files)
                hub.download_overrides[shard] = override
                out = f"{self.out}-{label}"
                with hub.installed():
                    code, log = run_main(["--model-id", "acme/tiny", "--revision", SHA, "--output", out, "--token-file", self.token_file])
                self.assertEqual(code, 1)
                self.assertIn("verification of 8 files failed", log)
                self.assertIn(message, log)
                self.assertNotIn("Traceback", log)

    def test_hub_errors_become_clear_messages(self):
        cases = [
            ("GatedRepoError", "gated and the token has no access"),
            ("RepositoryNotFoundError", "no such model on the Hub"),
            ("RevisionNotFoundError", "revision 'main' does not exist"),
            ("HfHubHTTPError", "the Hub refused the request: 403 Client Error"),
        ]
        for error, message in cases:
            with self.subTest(error):
                code, log = self.stage(FakeHub(self.files, error=error))
                self.assertEqual(code, 1)
                self.assertIn("acme/tiny@main", log)
                self.assertIn(message, log)
                self.assertNotIn(FAKE_TOKEN, log)

    def test_no_token_file_means_anonymous(self):
        hub = FakeHub(self.files, error="GatedRepoError")
        with hub.installed():
            code, log = run_main(["--model-id", "acme/tiny", "--output", self.out, "--token-file", self.token_file + ".absent"])
        self.assertEqual(code, 1)
        self.assertEqual(hub.calls[0][4], None)
        self.assertIn("no token was given", log)

    def test_too_many_groups_fails_before_downloading(self):
        hub = FakeHub({f"shard-{i:02d}.bin": os.urandom(100) for i in range(17)})
        code, log = self.stage(hub, "--max-layer-bytes", "100")
        self.assertEqual(code, 1)
        self.assertIn("group slots; raise --max-layer-bytes", log)
        self.assertEqual([c[0] for c in hub.calls], ["model_info"])
        self.assertFalse(os.path.exists(self.out))

    def test_refuses_repo_files_without_size_or_with_unsafe_paths(self):
        hub = FakeHub({"config.json": b"{}"}, lfs=set())
        real_info = hub.module.HfApi.model_info

        def without_sizes(api, repo_id, **kw):
            info = real_info(api, repo_id, **kw)
            for s in info.siblings:
                s.size = None
            return info

        with mock.patch.object(hub.module.HfApi, "model_info", without_sizes):
            code, log = self.stage(hub)
        self.assertEqual(code, 1)
        self.assertIn("no size for config.json", log)

        code, log = self.stage(FakeHub({"../escape.json": b"{}"}, lfs=set()))
        self.assertEqual(code, 1)
        self.assertIn("'../escape.json' is not a plain relative path", log)

    def test_missing_huggingface_hub_is_explained(self):
        with mock.patch.dict(sys.modules, {"huggingface_hub": None}):
            code, log = run_main(["--model-id", "acme/tiny", "--output", self.out])
        self.assertEqual(code, 1)
        self.assertIn("needs huggingface_hub", log)
        self.assertIn("--local-dir", log)

    def test_rejects_bad_model_id(self):
        code, log = self.stage(FakeHub(self.files), "--model-id", "not a repo")
        self.assertEqual(code, 1)
        self.assertIn("is not a HuggingFace repo id", log)


if __name__ == "__main__":
    unittest.main()
