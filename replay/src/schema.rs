//! The trace schema, version 1: its own types, never the executor's.
//!
//! A trace is a zstd stream of CBOR records: one [`Header`], then [`Blob`]s and
//! [`ActionRecord`]s in dependency order (a blob is written before the first
//! record naming it; an action after every action it depends on), then one
//! [`End`]. A trace without `End` is from a build that did not finish: every
//! record before the cut is still readable. `docs/trace-format.md` is the
//! normative description; a change here changes the version there.

/// The format name in every header.
pub const FORMAT: &str = "gob-trace";
/// The version this crate writes and reads.
pub const VERSION: u32 = 1;

/// A BLAKE3 digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The BLAKE3 digest of `data`.
    pub fn of(data: &[u8]) -> Digest {
        Digest(*blake3::hash(data).as_bytes())
    }

    /// The 64-character lowercase hex spelling.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(HEX[usize::from(b >> 4)] as char);
            s.push(HEX[usize::from(b & 15)] as char);
        }
        s
    }

    /// The first 12 hex characters, for reports.
    pub fn short(&self) -> String {
        let mut s = self.to_hex();
        s.truncate(12);
        s
    }

    /// Parses the 64-character hex spelling (either case).
    pub fn from_hex(s: &str) -> Option<Digest> {
        let b = s.as_bytes();
        if b.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in b.chunks_exact(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            out[i] = (hi * 16 + lo) as u8;
        }
        Some(Digest(out))
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// An operating system and architecture pair (`linux`, `amd64`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    /// GOOS spelling.
    pub os: String,
    /// GOARCH spelling.
    pub arch: String,
}

/// One toolchain program and its identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolId {
    /// Its name (`compile`, `asm`, `link`, `preprofile`, `gob-internal-pack`).
    pub name: String,
    /// BLAKE3 of the binary on the recording host.
    pub digest: Digest,
    /// Size in bytes.
    pub size: u64,
}

/// A source root: an inside path prefix and what it stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    /// The inside prefix (`/goroot`, `/mod/example.com/hello`).
    pub inside: String,
    /// `goroot` or `module`.
    pub kind: String,
}

/// The first record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`] for traces this crate writes.
    pub version: u32,
    /// The gob that recorded it.
    pub gob_version: String,
    /// The target platform.
    pub target: Platform,
    /// Target feature levels and knobs (`GOAMD64=v1`, `GOEXPERIMENT=…`), sorted.
    pub target_env: Vec<(String, String)>,
    /// The Go toolchain version (`go1.27.3`).
    pub go_version: String,
    /// The toolchain's own host platform (from `pkg/tool/<os>_<arch>`).
    pub tool_platform: Platform,
    /// Identity of each tool used.
    pub tools: Vec<ToolId>,
    /// The host that recorded it.
    pub host: Platform,
    /// The source roots the actions' paths are under.
    pub roots: Vec<Root>,
    /// The packages asked for (as given on the command line).
    pub patterns: Vec<String>,
    /// Whether input blobs are embedded.
    pub blobs: bool,
}

/// A file an action read or wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRef {
    /// The path as the action saw it (inside path, `/goroot/src/fmt/print.go`).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// BLAKE3 of the content.
    pub digest: Digest,
}

/// A declared output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputRef {
    /// Its stable name (`_pkg_.a`, `a.out`).
    pub name: String,
    /// The file.
    pub file: FileRef,
    /// Whether it is executable.
    pub exec: bool,
}

/// How an action ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Exit code (0 is success).
    Exited(i32),
    /// Killed by a signal.
    Signaled(i32),
    /// Killed at the wall-time limit.
    TimedOut,
    /// It could not run (setup failure, missing output); the message.
    Error(String),
}

/// The sandbox that enforced an action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxInfo {
    /// `full`, `namespaces`, `landlock` or `none`.
    pub mode: String,
    /// The Landlock ABI enforced, if any.
    pub landlock_abi: Option<u8>,
}

/// The tool name of gob's own `pack r` (it runs no binary of the toolchain).
pub const INTERNAL_PACK: &str = "gob-internal-pack";

/// How gob names the action at trace index `index`: `b012` for 11.
pub fn action_id(index: u32) -> String {
    format!("b{:03}", index as u64 + 1)
}

/// One action, written when it finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionRecord {
    /// Its index in the graph (dependency order); `id` renders it (`b001`).
    pub index: u32,
    /// `symabis`, `compile`, `asm`, `pack`, `preprofile` or `link`.
    pub kind: String,
    /// The package's import path.
    pub package: String,
    /// Indexes of the actions whose outputs it reads.
    pub deps: Vec<u32>,
    /// The tool's name (a [`ToolId::name`]).
    pub tool: String,
    /// Arguments after the program, in inside paths.
    pub argv: Vec<String>,
    /// The complete environment.
    pub env: Vec<(String, String)>,
    /// The working directory (inside path).
    pub cwd: String,
    /// Every input, sorted by path.
    pub inputs: Vec<FileRef>,
    /// Every output.
    pub outputs: Vec<OutputRef>,
    /// How it ended.
    pub status: Status,
    /// The tool's stdout.
    pub stdout: Vec<u8>,
    /// The tool's stderr.
    pub stderr: Vec<u8>,
    /// Wall time in nanoseconds.
    pub wall_ns: u64,
    /// CPU time in nanoseconds (0 when unknown or cached).
    pub cpu_ns: u64,
    /// Whether the outputs came from the cache (no tool ran).
    pub cached: bool,
    /// The cache key.
    pub key: Digest,
    /// The sandbox that ran it (None for cache hits).
    pub sandbox: Option<SandboxInfo>,
}

/// The content of one input, embedded once per digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    /// BLAKE3 of `data`; the reader checks it.
    pub digest: Digest,
    /// The bytes.
    pub data: Vec<u8>,
}

/// The last record of a finished build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct End {
    /// Number of action records written.
    pub actions: u32,
    /// Whether the build succeeded.
    pub success: bool,
}

/// Any record of the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// The first record.
    Header(Header),
    /// An embedded input.
    Blob(Blob),
    /// A finished action.
    Action(ActionRecord),
    /// The last record.
    End(End),
}
