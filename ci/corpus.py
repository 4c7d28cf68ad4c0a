#!/usr/bin/env python3
"""Assembles the real-world differential corpus (run by ci/corpus; see docs/corpus.md).

Steps, each skipped when its output is already in place and the stamp matches:
  1. copy /usr/share/gocode/src (symlinks followed) to OUT/src and find the
     modules in it: every go.mod, plus one synthesized `module P` go.mod for each
     Debian package whose tree has none;
  2. stand in an empty module (a go.mod alone) under OUT/standin for every module
     some go.mod requires that Debian does not ship (listed in OUT/STANDINS);
  3. list every package of every module on the six test platforms and keep the
     importable ones that load without error everywhere;
  4. write the apps (OUT/apps/NAME: a main package with blank imports, a go.mod
     requiring and replacing every module) and tidy them;
  5. `go mod vendor` copies (OUT/vendor/NAME);
  6. a file:// proxy (OUT/proxy) built from the same trees, and `go mod download`
     of the modcache apps into OUT/gomodcache (OUT/modcache/NAME, go.sum checked);
  7. OUT/corpus.json (the manifest tests/corpus.rs reads), OUT/LARGEST, OUT/STATS.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

GOCODE = "/usr/share/gocode/src"
# The platforms tests/corpus.rs compares on: (GOOS, GOARCH, extra env).
PLATFORMS = [
    ("linux", "amd64", {}),
    ("linux", "arm64", {}),
    ("linux", "arm", {"GOARM": "7"}),
    ("linux", "386", {}),
    ("windows", "amd64", {}),
    ("darwin", "arm64", {}),
]
# App name -> regex over module paths whose packages it imports ("asm" instead
# takes every package with assembly on amd64 or arm64). "all" imports everything.
APPS = {
    "asm": None,
    "net": r"grpc|prometheus|opencensus|opentelemetry|genproto|protobuf|golang\.org/x/(net|oauth2)|gin|echo|chi|gorilla|negroni|cmux|jwt",
    "cli": r"cobra|pflag|viper|afero|cast|urfave|kingpin|mitchellh|toml|yaml|ini|hcl|color|termenv|lipgloss|bubble|tcell|tablewriter|humanize|logrus|zap|zerolog",
    "all": r".",
}
# Apps also laid out as a module cache filled by `go mod download`.
MODCACHE_APPS = ["asm", "cli"]
APP_PREFIX = "corpus.example/"


def log(*a):
    print("corpus:", *a, file=sys.stderr, flush=True)


class Go:
    def __init__(self, goroot, out):
        self.bin = os.path.join(goroot, "bin", "go")
        self.goroot = goroot
        self.out = out

    def env(self, extra=None):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.path.join(self.out, "home"),
            "GOROOT": self.goroot,
            "GOCACHE": os.path.join(self.out, "gocache"),
            "GOMODCACHE": os.path.join(self.out, "gomodcache"),
            "GOPATH": os.path.join(self.out, "gopath"),
            "GOTOOLCHAIN": "local",
            "GOPROXY": "off",
            "GOSUMDB": "off",
            "GOWORK": "off",
            "GOFLAGS": "-mod=mod",
            "CGO_ENABLED": "0",
            "GOOS": "linux",
            "GOARCH": "amd64",
        }
        env.update(extra or {})
        return env

    def run(self, args, cwd, extra=None, check=True):
        p = subprocess.run(
            [self.bin] + args, cwd=cwd, env=self.env(extra), capture_output=True, text=True
        )
        if check and p.returncode != 0:
            raise SystemExit(f"corpus: go {' '.join(args[:3])} in {cwd} failed:\n{p.stderr[-4000:]}")
        return p


def json_stream(text):
    dec = json.JSONDecoder()
    i, out = 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        v, i = dec.raw_decode(text, i)
        out.append(v)


def module_line(gomod_text):
    m = re.search(r'^\s*module\s+"?([^\s"/][^\s"]*)"?', gomod_text, re.M)
    return m.group(1) if m else None


SYNTH = "// synthesized by ci/corpus: the Debian package has no go.mod\n"


def skip_dir(name):
    return name in ("testdata", "vendor") or name.startswith((".", "_"))


# --- 1. the module trees ---------------------------------------------------


def copy_tree(src):
    if os.path.isdir(src):
        return
    log("copying", GOCODE, "->", src)
    tmp = src + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(GOCODE, tmp, symlinks=False, ignore_dangling_symlinks=True)
    os.rename(tmp, src)


# Path elements of a repository root on hosts that fix it.
HOST_DEPTH = {
    "github.com": 3,
    "gitlab.com": 3,
    "bitbucket.org": 3,
    "golang.org": 3,
    "gopkg.in": 2,
    "google.golang.org": 2,
    "go.uber.org": 2,
    "k8s.io": 2,
    "sigs.k8s.io": 2,
}


def debian_roots(list_file):
    """Import-path roots of the installed golang-*-dev packages (common prefix of their .go dirs)."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\n", "golang-*-dev"], capture_output=True, text=True
    ).stdout.split()
    roots = {}
    for pkg in sorted(out):
        files = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True).stdout.split("\n")
        dirs = sorted(
            {
                os.path.dirname(f)[len(GOCODE) + 1 :]
                for f in files
                if f.startswith(GOCODE + "/") and f.endswith(".go")
            }
        )
        dirs = [d for d in dirs if d]
        if not dirs:
            continue
        common = os.path.commonpath(dirs)
        # Debian installs a package at its import-path root, but a module
        # without go.mod may keep all its code in a subdirectory
        # (github.com/davecgh/go-spew/spew): cut to the host's path depth.
        elems = common.split("/")
        depth = HOST_DEPTH.get(elems[0], len(elems))
        if elems[0] == "gopkg.in" and len(elems) > 1 and ".v" not in elems[1]:
            depth = 3
        if len(elems) >= 2:
            roots[pkg] = "/".join(elems[:depth])
    return roots


def find_modules(src, go, list_file):
    """Module path -> dir (relative to src); synthesizes go.mod for go.mod-less trees."""
    mods, fixups = {}, []
    found = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if not skip_dir(d))
        if "go.mod" in filenames:
            found.append(os.path.relpath(dirpath, src))
    for rel in sorted(found, key=lambda r: (r.count("/"), r)):
        gomod = os.path.join(src, rel, "go.mod")
        text = open(gomod, errors="replace").read()
        if text.startswith(SYNTH):
            os.remove(gomod)  # written by an earlier run; decided afresh below
            continue
        path = module_line(text)
        ok = path and go.run(["mod", "edit", "-json"], os.path.join(src, rel), check=False).returncode == 0
        if not ok:
            path = path or rel
            with open(gomod, "w") as f:
                f.write(f"module {path}\n")
            fixups.append(f"{rel}/go.mod: unparsable, replaced by `module {path}`")
        if path in mods:
            fixups.append(f"{rel}/go.mod: module {path} already at {mods[path]}; ignored")
            continue
        mods[path] = rel
    covered = set(mods.values())

    def is_covered(rel):
        parts = rel.split("/")
        return any("/".join(parts[:i]) in covered for i in range(1, len(parts) + 1))

    for pkg, root in sorted(debian_roots(list_file).items()):
        if is_covered(root) or root in mods:
            continue
        with open(os.path.join(src, root, "go.mod"), "w") as f:
            f.write(f"{SYNTH}module {root}\n")
        fixups.append(f"{root}/go.mod: none in {pkg}; wrote `module {root}`")
        mods[root] = root
        covered.add(root)
    return mods, fixups


# --- 2. stand-ins ----------------------------------------------------------


def requirements(src, mods, go):
    """(path, version) of every require in every corpus go.mod."""
    reqs = set()
    for path, rel in mods.items():
        p = go.run(["mod", "edit", "-json"], os.path.join(src, rel), check=False)
        if p.returncode != 0:
            continue
        for r in json.loads(p.stdout).get("Require") or []:
            reqs.add((r["Path"], r["Version"]))
    return reqs


def default_version(path):
    m = re.search(r"/v(\d+)$", path) or re.search(r"^gopkg\.in/.*\.v(\d+)$", path)
    major = int(m.group(1)) if m else 0
    return f"v{major}.0.0"


# --- 3/4. listing and the apps ----------------------------------------------


def write_app(appdir, name, imports, mods, standins, main_body):
    os.makedirs(appdir, exist_ok=True)
    rel = os.path.relpath(os.path.dirname(os.path.dirname(appdir)), appdir)
    lines = [f"module {APP_PREFIX}{name}", "", "go 1.24", "", "require ("]
    for path in sorted(set(mods) | set(standins)):
        lines.append(f"\t{path} {default_version(path)}")
    lines += [")", "", "replace ("]
    for path, d in sorted(mods.items()):
        lines.append(f"\t{path} => {rel}/src/{d}")
    for path in sorted(standins):
        lines.append(f"\t{path} => {rel}/standin/{path}")
    lines.append(")")
    with open(os.path.join(appdir, "go.mod"), "w") as f:
        f.write("\n".join(lines) + "\n")
    src = ["// Code generated by ci/corpus; DO NOT EDIT.", "", "package main", "", "import ("]
    src += [f'\t_ "{i}"' for i in sorted(imports)]
    src += [")", "", "func main() {", main_body, "}", ""]
    with open(os.path.join(appdir, "main.go"), "w") as f:
        f.write("\n".join(src))


def list_packages(go, appdir, patterns):
    """ImportPath -> {platform: package json} over all platforms."""
    result = {}
    for goos, goarch, extra in PLATFORMS:
        env = dict(extra, GOOS=goos, GOARCH=goarch)
        p = go.run(
            ["list", "-e", "-json=ImportPath,Name,Error,DepsErrors,Module,Standard,GoFiles,SFiles,Incomplete"]
            + patterns,
            appdir,
            env,
            check=False,
        )
        if not p.stdout.strip():
            raise SystemExit(f"corpus: go list printed nothing:\n{p.stderr[-4000:]}")
        for pkg in json_stream(p.stdout):
            result.setdefault(pkg["ImportPath"], {})[f"{goos}/{goarch}"] = pkg
    return result


def importable(path, per_platform, standins):
    if len(per_platform) != len(PLATFORMS):
        return False
    elems = path.split("/")
    # Internal packages cannot be imported from the app; tests/ and examples/
    # trees (avo's tests/alloc) hold amd64 assembly without build constraints.
    if {"internal", "vendor", "tests", "examples", "example"} & set(elems):
        return False
    for pkg in per_platform.values():
        if pkg.get("Error") or pkg.get("DepsErrors") or pkg.get("Incomplete"):
            return False
        if pkg.get("Name") == "main" or pkg.get("Standard") or not pkg.get("GoFiles"):
            return False
        if (pkg.get("Module") or {}).get("Path") in standins:
            return False
    return True


PLAN_LINE = re.compile(
    r"^(mkdir|cat|echo|cd|/|go tool|packagefile|importmap|EOF|#|cp|embed|modinfo|godebug|mv|rm|touch|chmod|\s|[{}\"])"
)


def build_n_failures(go, appdir, flags=()):
    """Import-path-like words in the error lines of `go build -n` on any platform
    (-n prints the plan on stderr too; error lines are the ones no plan line looks like)."""
    bad = set()
    for goos, goarch, extra in PLATFORMS:
        env = dict(extra, GOOS=goos, GOARCH=goarch)
        p = go.run(["build", "-n", "-a", *flags, "."], appdir, env, check=False)
        if p.returncode != 0:
            errs = [l for l in p.stderr.splitlines() if l.strip() and not PLAN_LINE.match(l)]
            words = set(re.findall(r"[A-Za-z0-9_.~-]+(?:/[A-Za-z0-9_.~-]+)+", "\n".join(errs)))
            if not words:
                raise SystemExit(f"corpus: go build -n {appdir} ({goos}/{goarch}):\n" + "\n".join(errs[-40:]))
            bad |= words
    return bad


ASM_MAIN = """\tfmt.Println("corpus asm app")"""


# --- 6. the proxy -----------------------------------------------------------

NAME_OK = re.compile(r"^[A-Za-z0-9!#$%&()+,\-.=@\[\]^_{}~]+$")


def escape(path):
    return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), path)


def zip_module(path, version, moddir, dest):
    files, seen = [], set()
    for dirpath, dirnames, filenames in os.walk(moddir):
        rel = os.path.relpath(dirpath, moddir)
        keep = []
        for d in sorted(dirnames):
            sub = os.path.join(dirpath, d)
            if d in ("vendor",) or d.startswith(".") or os.path.exists(os.path.join(sub, "go.mod")):
                continue
            keep.append(d)
        dirnames[:] = keep
        for fn in sorted(filenames):
            r = fn if rel == "." else f"{rel}/{fn}"
            if not all(NAME_OK.match(e) and not e.endswith(".") for e in r.split("/")):
                continue
            if r.lower() in seen or (fn == "go.mod" and rel != "."):
                continue
            full = os.path.join(dirpath, fn)
            if not os.path.isfile(full):
                continue
            seen.add(r.lower())
            files.append((r, full))
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for r, full in files:
            info = zipfile.ZipInfo(f"{path}@{version}/{r}", (2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(full, "rb") as f:
                z.writestr(info, f.read())


def build_proxy(proxy, pairs, selected, moddir_of):
    for path, version in sorted(pairs):
        d = moddir_of(path)
        if d is None:
            continue
        atv = os.path.join(proxy, escape(path), "@v")
        os.makedirs(atv, exist_ok=True)
        gomod = os.path.join(d, "go.mod")
        text = open(gomod).read() if os.path.exists(gomod) else f"module {path}\n"
        with open(os.path.join(atv, f"{version}.mod"), "w") as f:
            f.write(text)
        with open(os.path.join(atv, f"{version}.info"), "w") as f:
            f.write(json.dumps({"Version": version, "Time": "2024-01-01T00:00:00Z"}) + "\n")
        listed = os.path.join(atv, "list")
        have = open(listed).read().split() if os.path.exists(listed) else []
        if version not in have:
            with open(listed, "a") as f:
                f.write(version + "\n")
        z = os.path.join(atv, f"{version}.zip")
        if (path, version) in selected and not os.path.exists(z):
            zip_module(path, version, d, z)


def rmtree_rw(d):
    if os.path.exists(d):
        subprocess.run(["chmod", "-R", "u+w", d], check=False)
        shutil.rmtree(d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--goroot", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--list", required=True)
    a = ap.parse_args()
    out = a.out
    go = Go(a.goroot, out)

    # The stamp: the list, this script, the installed package versions, the toolchain.
    h = hashlib.sha256()
    for f in [a.list, __file__, os.path.join(a.goroot, "VERSION")]:
        h.update(open(f, "rb").read())
    deb_versions = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${Version}\n", "golang-*-dev"],
        capture_output=True,
        text=True,
    ).stdout
    h.update(deb_versions.encode())
    stamp = h.hexdigest()
    stamp_file = os.path.join(out, "STAMP")
    if os.path.exists(stamp_file) and open(stamp_file).read().strip() == stamp:
        print(out)
        return
    for d in ["apps", "vendor", "modcache", "proxy", "gomodcache", "standin", "STAMP"]:
        p = os.path.join(out, d)
        rmtree_rw(p) if os.path.isdir(p) else (os.path.exists(p) and os.remove(p))
    os.makedirs(out, exist_ok=True)

    src = os.path.join(out, "src")
    src_stamp = os.path.join(out, "SRCSTAMP")
    if not (os.path.exists(src_stamp) and open(src_stamp).read() == deb_versions):
        rmtree_rw(src)
        copy_tree(src)
        with open(src_stamp, "w") as f:
            f.write(deb_versions)
    mods, fixups = find_modules(src, go, a.list)
    log(len(mods), "modules in the Debian trees")

    reqs = requirements(src, mods, go)
    standins = sorted({p for p, _ in reqs if p not in mods})
    for p in standins:
        d = os.path.join(out, "standin", p)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "go.mod"), "w") as f:
            f.write(f"module {p}\n")
    with open(os.path.join(out, "STANDINS"), "w") as f:
        f.write("".join(p + "\n" for p in standins))
    with open(os.path.join(out, "FIXUPS"), "w") as f:
        f.write("".join(x + "\n" for x in fixups))
    log(len(standins), "stand-in modules (see STANDINS)")

    # 3. Which packages load everywhere.
    probe = os.path.join(out, "apps", "probe")
    write_app(probe, "probe", [], mods, standins, "")
    listing = list_packages(go, probe, [f"{m}/..." for m in sorted(mods)])
    ok = sorted(p for p, per in listing.items() if importable(p, per, set(standins)))
    asm = sorted(
        p
        for p in ok
        if listing[p]["linux/amd64"].get("SFiles") or listing[p]["linux/arm64"].get("SFiles")
    )
    log(len(listing), "packages listed,", len(ok), "importable on every platform,", len(asm), "with assembly")
    rmtree_rw(probe)

    apps = {}
    for name, rx in APPS.items():
        if rx is None:
            imports = asm
        else:
            imports = [p for p in ok if re.search(rx, listing[p]["linux/amd64"]["Module"]["Path"])]
        appdir = os.path.join(out, "apps", name)
        for attempt in range(6):
            write_app(appdir, name, imports, mods, standins, ASM_MAIN if name == "asm" else "")
            if name == "asm":
                with open(os.path.join(appdir, "main.go")) as f:
                    text = f.read().replace("import (", 'import (\n\t"fmt"\n', 1)
                with open(os.path.join(appdir, "main.go"), "w") as f:
                    f.write(text)
            go.run(["mod", "tidy", "-e"], appdir)
            bad = build_n_failures(go, appdir)
            if not bad:
                break
            before = len(imports)
            # Drop each import that is, or depends on, a failing package.
            deps = {}
            for goos, goarch, extra in PLATFORMS:
                p = go.run(
                    ["list", "-e", "-deps", "-f", "{{.ImportPath}} {{join .Deps \" \"}}"] + imports,
                    appdir,
                    dict(extra, GOOS=goos, GOARCH=goarch),
                    check=False,
                )
                for line in p.stdout.splitlines():
                    parts = line.split()
                    if parts:
                        deps.setdefault(parts[0], set()).update(parts[1:])
            imports = [i for i in imports if i not in bad and not (deps.get(i, set()) & bad)]
            log(f"app {name}: dropped {before - len(imports)} imports failing go build -n")
            if len(imports) == before:
                raise SystemExit(f"corpus: app {name} fails go build -n and nothing to drop: {sorted(bad)[:10]}")
        apps[name] = imports

    # 5. Vendor copies.
    for name in apps:
        vdir = os.path.join(out, "vendor", name)
        os.makedirs(vdir, exist_ok=True)
        for f in ["go.mod", "go.sum", "main.go"]:
            s = os.path.join(out, "apps", name, f)
            if os.path.exists(s):
                shutil.copy(s, vdir)
        go.run(["mod", "vendor", "-e"], vdir)

    # 6. The proxy and the module cache.
    proxy = os.path.join(out, "proxy")
    allpairs = set(reqs)
    for name in MODCACHE_APPS:
        appdir = os.path.join(out, "apps", name)
        graph = go.run(["mod", "graph"], appdir).stdout.split()
        for node in graph:
            if "@" in node:
                allpairs.add(tuple(node.split("@", 1)))
        sel = set()
        for m in json_stream(go.run(["list", "-m", "-json", "all"], appdir).stdout):
            if not m.get("Main"):
                sel.add((m["Path"], m["Version"]))

        def moddir_of(path):
            if path in mods:
                return os.path.join(src, mods[path])
            if path in standins:
                return os.path.join(out, "standin", path)
            return None

        build_proxy(proxy, allpairs | sel, sel, moddir_of)
        mdir = os.path.join(out, "modcache", name)
        os.makedirs(mdir, exist_ok=True)
        shutil.copy(os.path.join(appdir, "main.go"), mdir)
        with open(os.path.join(appdir, "go.mod")) as f:
            gomod = f.read()
        gomod = re.sub(r"\nreplace \(.*?\n\)\n", "\n", gomod, flags=re.S)
        with open(os.path.join(mdir, "go.mod"), "w") as f:
            f.write(gomod)
        penv = {"GOPROXY": "file://" + proxy}
        go.run(["mod", "download"], mdir, penv)
        go.run(["mod", "tidy", "-e"], mdir, penv)
        go.run(["list", "-deps", "."], mdir, {"GOFLAGS": ""})

    # 7. Manifest and counts.
    count = {}
    for name in apps:
        pk = go.run(
            ["list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "."],
            os.path.join(out, "apps", name),
        ).stdout.split()
        ms = [
            m
            for m in go.run(["list", "-m", "all"], os.path.join(out, "apps", name)).stdout.splitlines()[1:]
        ]
        count[name] = (len(pk), len(ms))
    largest = max(count, key=lambda n: count[n][0])
    manifest = {
        "apps": [
            {
                "name": n,
                "packages": count[n][0],
                "modules": count[n][1],
                "layouts": {
                    "replace": f"apps/{n}",
                    "vendor": f"vendor/{n}",
                    **({"modcache": f"modcache/{n}"} if n in MODCACHE_APPS else {}),
                },
            }
            for n in apps
        ],
        "gomodcache": "gomodcache",
        "largest": largest,
        "standins": standins,
        "modules": len(mods),
    }
    with open(os.path.join(out, "corpus.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    with open(os.path.join(out, "LARGEST"), "w") as f:
        f.write(f"apps/{largest}\n")
    with open(os.path.join(out, "STATS"), "w") as f:
        f.write(f"modules in the Debian trees: {len(mods)}\nstand-ins: {len(standins)}\n")
        for n, (p, m) in count.items():
            f.write(f"app {n}: {p} non-std packages (linux/amd64), {m} modules in the build list\n")
    log(open(os.path.join(out, "STATS")).read().strip())
    with open(stamp_file, "w") as f:
        f.write(stamp + "\n")
    print(out)


if __name__ == "__main__":
    main()
