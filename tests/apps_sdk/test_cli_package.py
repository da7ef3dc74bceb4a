"""`orbitchat app new` and `orbitchat app package`: a scaffold that validates, deterministic zips without tests,
caches or VCS files, and every manifest or syntax problem reported at once."""
from __future__ import annotations

import io
import json
import os
import zipfile

from apps_sdk import manifest as manifest_mod
from apps_sdk import packaging
from core.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["app", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_new_writes_a_valid_app_with_a_fresh_id(tmp_path, capsys):
    code, out, _ = run(capsys, "new", str(tmp_path / "weather-bot"))
    assert code == 0 and "created Weather Bot" in out
    app = tmp_path / "weather-bot"
    manifest = json.loads((app / "app.json").read_text())
    assert manifest_mod.validate(manifest)["nameSlug"] == "weather-bot"
    assert {p.name for p in app.iterdir()} >= {"app.json", "app.py", "tests", "README.md", "pyproject.toml"}
    assert "async def test_" in (app / "tests" / "test_app.py").read_text()
    compile((app / "app.py").read_text(), "app.py", "exec")

    code, _, _ = run(capsys, "new", str(tmp_path / "other"), "--name", "Weather Bot", "--author", "Ada")
    other = json.loads((tmp_path / "other" / "app.json").read_text())
    assert code == 0 and other["id"] != manifest["id"] and other["author"] == {"name": "Ada"}

    code, _, err = run(capsys, "new", str(app))
    assert code == 1 and "not an empty directory" in err


def test_package_is_deterministic_and_leaves_out_what_is_not_the_app(tmp_path, capsys):
    app = tmp_path / "app"
    run(capsys, "new", str(app), "--name", "Packed")
    for junk in ("__pycache__/app.cpython-311.pyc", ".git/HEAD", "tests/__pycache__/x.pyc", ".env", "dist/old.zip",
                 "lib/__pycache__/util.pyc"):
        (app / junk).parent.mkdir(parents=True, exist_ok=True)
        (app / junk).write_text("junk")
    (app / "lib" / "util.py").write_text("ANSWER = 42\n")

    code, out, _ = run(capsys, "package", str(app))
    assert code == 0 and "packaged Packed 0.1.0" in out
    first = (app / "dist" / "packed_0.1.0.zip").read_bytes()
    os.utime(app / "app.py", (1, 1))                 # other timestamps: the same bytes
    code, _, _ = run(capsys, "package", str(app), "-o", str(tmp_path / "again.zip"))
    assert code == 0 and (tmp_path / "again.zip").read_bytes() == first
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        assert zf.namelist() == ["README.md", "app.json", "app.py", "lib/util.py"]
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert packaging.build(app).data == first


def test_package_reports_every_problem(tmp_path, capsys):
    app = tmp_path / "app"
    run(capsys, "new", str(app), "--name", "Broken")
    manifest = json.loads((app / "app.json").read_text())
    manifest.update(version="one", permissions=[{"name": "teleport"}])
    del manifest["author"]
    (app / "app.json").write_text(json.dumps(manifest))
    code, _, err = run(capsys, "package", str(app))
    assert code == 1 and "cannot package the app" in err
    assert "author" in err and "version" in err

    manifest.update(version="1.0.0", author={"name": "x"}, permissions=[{"name": "teleport"}])
    (app / "app.json").write_text(json.dumps(manifest))
    code, _, err = run(capsys, "package", str(app))
    assert code == 1 and "unknown permission 'teleport'" in err

    manifest["permissions"] = []
    (app / "app.json").write_text(json.dumps(manifest))
    (app / "app.py").write_text("def broken(:\n")
    code, _, err = run(capsys, "package", str(app))
    assert code == 1 and "app.py:1:" in err
    (app / "app.json").write_text("{not json")
    assert run(capsys, "package", str(app))[2].count("not valid JSON") == 1
    assert run(capsys, "package", str(tmp_path / "nowhere"))[0] == 1
