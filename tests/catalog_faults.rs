//! Faults of the SQLite catalog at the moments the writer needs it (opening, block
//! transitions): another connection holding the write lock, a catalog the process may not
//! write, and a full disk. Each gives a clear error, or a delay and then success; nothing
//! already written is lost, and writing continues once the fault is gone.
//!
//! Two faults need a process of their own, so those tests run this binary again as a child
//! (`--exact <test>` with `NANOTS_CATALOG_FAULT_CHILD` set):
//! - read-only: tests run as root here, and root ignores permission bits, so the child drops
//!   to the `nobody` user before opening (when not root, plain `chmod` is enough and the child
//!   runs as is);
//! - full disk: `PRAGMA max_page_count` only limits the connection that sets it (it is not
//!   stored in the database), so a side connection cannot make the writer's inserts fail with
//!   SQLITE_FULL. The child lowers its own `RLIMIT_FSIZE` instead, so the catalog's WAL cannot
//!   grow: SQLite's next commit gets a short write and reports SQLITE_FULL, exactly as on a
//!   full disk. The data file is preallocated, so it is unaffected, as on a real full disk.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{TempDir, payload};
use nanots::{Error, Reader, Writer, allocate};

const CHILD_ENV: &str = "NANOTS_CATALOG_FAULT_CHILD";
const BLOCK: u64 = 8 * 1024;
/// Two frames fill a block: every other write is a block transition.
const FRAME: usize = 3000;

fn frame(ts: i64) -> Vec<u8> {
    payload("s", ts, FRAME)
}

fn store(name: &str, blocks: u64) -> (TempDir, PathBuf) {
    let dir = TempDir::new(name);
    let path = dir.file("store.nts");
    allocate(&path, BLOCK, blocks).unwrap();
    (dir, path)
}

fn read_all(path: &Path) -> Vec<i64> {
    let reader = Reader::open(path).unwrap();
    let mut keys = Vec::new();
    for f in reader.iter("s").unwrap() {
        let f = f.unwrap();
        assert_eq!(f.data, frame(f.timestamp), "frame {} damaged", f.timestamp);
        keys.push(f.timestamp);
    }
    keys
}

/// Holds the catalog's write lock from another connection for `hold`, in a thread.
fn lock_catalog_for(path: &Path, hold: Duration) -> std::thread::JoinHandle<()> {
    let conn = rusqlite::Connection::open(path.with_extension("db")).unwrap();
    // In WAL mode EXCLUSIVE is IMMEDIATE: readers go on, every other writer waits.
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    std::thread::spawn(move || {
        std::thread::sleep(hold);
        conn.execute_batch("COMMIT").unwrap();
    })
}

/// A lock held for less than the writer's 5 s busy timeout only delays the block transition.
#[test]
fn a_briefly_locked_catalog_delays_a_block_transition_then_the_write_succeeds() {
    let (_dir, path) = store("fault-lock-short", 16);
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    ctx.write(&frame(0), 0, 0).unwrap();
    ctx.write(&frame(1), 1, 0).unwrap();
    let holder = lock_catalog_for(&path, Duration::from_millis(600));
    // Frame 2 does not fit: finishing block 1 and claiming the next need the catalog.
    let started = Instant::now();
    ctx.write(&frame(2), 2, 0).unwrap();
    let waited = started.elapsed();
    holder.join().unwrap();
    assert!(
        waited >= Duration::from_millis(400),
        "the transition did not wait for the lock ({waited:?})"
    );
    ctx.write(&frame(3), 3, 0).unwrap();
    drop(ctx);
    assert_eq!(read_all(&path), vec![0, 1, 2, 3]);
}

/// A lock held past the busy timeout fails the transition with a clear error; the frame is not
/// written, nothing before it is lost, and the same write succeeds once the lock is gone.
#[test]
fn a_catalog_locked_past_the_busy_timeout_fails_the_write_and_loses_nothing() {
    let (_dir, path) = store("fault-lock-long", 16);
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    ctx.write(&frame(0), 0, 0).unwrap();
    ctx.write(&frame(1), 1, 0).unwrap();
    let holder = lock_catalog_for(&path, Duration::from_millis(6500));
    let started = Instant::now();
    let err = ctx.write(&frame(2), 2, 0).unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(&err, Error::Sqlite(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)),
        "{err:?}"
    );
    assert!(err.to_string().contains("locked"), "unclear error: {err}");
    assert!(waited >= Duration::from_secs(4), "gave up after {waited:?}");
    // Readers are not blocked by the lock, and see every acknowledged frame.
    assert_eq!(read_all(&path), vec![0, 1]);
    holder.join().unwrap();
    // The failed write wrote nothing; the same key is accepted now.
    ctx.write(&frame(2), 2, 0).unwrap();
    ctx.write(&frame(3), 3, 0).unwrap();
    drop(ctx);
    assert_eq!(read_all(&path), vec![0, 1, 2, 3]);
    drop(writer);
    // Reopening (recovery) keeps everything, including the block whose finish failed.
    let writer = Writer::open(&path, false).unwrap();
    assert_eq!(read_all(&path), vec![0, 1, 2, 3]);
    let mut ctx = writer.create_write_context("s", "").unwrap();
    ctx.write(&frame(4), 4, 0).unwrap();
    drop(ctx);
    assert_eq!(read_all(&path), vec![0, 1, 2, 3, 4]);
}

/// A lock held while a writer opens: recovery waits like any transition, then runs.
#[test]
fn a_briefly_locked_catalog_delays_writer_open() {
    let (_dir, path) = store("fault-lock-open", 4);
    {
        let writer = Writer::open(&path, false).unwrap();
        let mut ctx = writer.create_write_context("s", "").unwrap();
        ctx.write(&frame(0), 0, 0).unwrap();
    }
    let holder = lock_catalog_for(&path, Duration::from_millis(300));
    let writer = Writer::open(&path, false).unwrap();
    holder.join().unwrap();
    drop(writer);
    assert_eq!(read_all(&path), vec![0]);
}

fn run_child(test: &str, dir: &Path) -> (std::process::ExitStatus, String) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status, text)
}

/// The text after `name` on the child's output line that carries it (the test harness may print
/// its own "test x ... " in front).
fn field(out: &str, name: &str) -> String {
    out.lines()
        .find_map(|l| {
            l.find(name)
                .map(|at| l[at + name.len()..].trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {name} in:\n{out}"))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The child side of the read-only test: opens as a user that may not write the catalog.
#[test]
fn read_only_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let path = PathBuf::from(dir).join("store.nts");
    if is_root() {
        // SAFETY: setgid/setuid only change this child process's credentials.
        unsafe {
            assert_eq!(libc::setgid(65534), 0, "setgid(nobody)");
            assert_eq!(libc::setuid(65534), 0, "setuid(nobody)");
        }
        assert!(
            std::fs::OpenOptions::new()
                .write(true)
                .open(path.with_extension("db"))
                .is_err(),
            "the catalog is still writable after dropping root"
        );
    }
    match Writer::open(&path, false) {
        Ok(_) => println!("WRITER: opened"),
        Err(e) => println!("WRITER: code {} {e}", e.code()),
    }
    match Reader::open(&path) {
        Ok(reader) => {
            let mut keys = Vec::new();
            for f in reader.iter("s").unwrap() {
                let f = f.unwrap();
                assert_eq!(f.data, frame(f.timestamp));
                keys.push(f.timestamp);
            }
            println!("READER: {keys:?}");
        }
        Err(e) => println!("READER: error {e}"),
    }
}

fn store_with_five_frames(name: &str) -> (TempDir, PathBuf) {
    let (dir, path) = store(name, 4);
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    for ts in 0..5 {
        ctx.write(&frame(ts), ts, 0).unwrap();
    }
    (dir, path)
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
}

/// Runs the read-only child with the catalog at mode 0444 and the directory at `dir_mode`;
/// returns its WRITER and READER lines. The data file stays writable, so only the catalog can
/// be the reason for a refusal.
fn open_with_read_only_catalog(dir: &Path, path: &Path, dir_mode: u32) -> (String, String) {
    let catalog_before = std::fs::read(path.with_extension("db")).unwrap();
    set_mode(path, 0o666);
    set_mode(&path.with_extension("db"), 0o444);
    set_mode(dir, dir_mode);
    let (status, out) = run_child("read_only_child", dir);
    set_mode(dir, 0o755);
    set_mode(&path.with_extension("db"), 0o644);
    assert!(status.success(), "child failed:\n{out}");
    assert_eq!(
        std::fs::read(path.with_extension("db")).unwrap(),
        catalog_before,
        "the refused writer changed the catalog"
    );
    // Nothing was lost for a writer that may write again.
    assert_eq!(read_all(path), vec![0, 1, 2, 3, 4]);
    (field(&out, "WRITER:"), field(&out, "READER:"))
}

/// A catalog file this process may not write: the writer is refused with a clear error before
/// it changes anything; readers still read every frame.
#[test]
fn a_read_only_catalog_refuses_the_writer_clearly_and_readers_still_read() {
    let (dir, path) = store_with_five_frames("fault-readonly");
    let (writer, reader) = open_with_read_only_catalog(dir.path(), &path, 0o777);
    assert!(
        writer.starts_with("code 13") && writer.contains("readonly database"),
        "unclear error for a read-only catalog: {writer}"
    );
    assert_eq!(reader, "[0, 1, 2, 3, 4]");
}

/// A read-only catalog in a directory the process may not write either. The writer is refused
/// as above. SQLite cannot read a WAL-mode database when it can neither create nor open its
/// `-shm` file, so today a reader is refused too (a typed catalog error, nothing returned
/// wrong); see PATCHES_FOR_LEAD.md, note 4.
#[test]
fn a_read_only_catalog_in_a_read_only_directory_refuses_with_typed_errors() {
    let (dir, path) = store_with_five_frames("fault-readonly-dir");
    let (writer, reader) = open_with_read_only_catalog(dir.path(), &path, 0o555);
    assert!(
        writer.starts_with("code 13") && writer.contains("readonly database"),
        "unclear error for a read-only catalog: {writer}"
    );
    assert!(
        reader == "[0, 1, 2, 3, 4]" || reader.starts_with("error catalog (SQLite) error"),
        "{reader}"
    );
    println!("reader in a read-only directory: {reader}");
}

/// Moves this thread into a mount namespace of its own with a small tmpfs at `at`: a disk that
/// can really fill up. `false` where that is not allowed (no CAP_SYS_ADMIN).
fn mount_small_tmpfs(at: &Path, bytes: u64) -> bool {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let target = CString::new(at.as_os_str().as_bytes()).unwrap();
    let none = CString::new("none").unwrap();
    let root = CString::new("/").unwrap();
    let tmpfs = CString::new("tmpfs").unwrap();
    let options = CString::new(format!("size={bytes}")).unwrap();
    // SAFETY: plain system calls on valid C strings; they change only this child's mount
    // namespace (private propagation keeps the new mount from reaching the parent's).
    unsafe {
        libc::unshare(libc::CLONE_NEWNS) == 0
            && libc::mount(
                none.as_ptr(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) == 0
            && libc::mount(
                tmpfs.as_ptr(),
                target.as_ptr(),
                tmpfs.as_ptr(),
                0,
                options.as_ptr().cast(),
            ) == 0
    }
}

/// Fills the filesystem holding `dir` with a filler file until a write fails.
fn fill_up(dir: &Path) -> PathBuf {
    use std::io::Write;
    let filler = dir.join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 4096];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
    filler
}

/// The child side of the full-disk test.
#[test]
fn disk_full_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let small = dir.join("small");
    let tmpfs = mount_small_tmpfs(&small, 2 << 20);
    let work = if tmpfs { small.clone() } else { dir.clone() };
    let path = work.join("store.nts");
    allocate(&path, BLOCK, 64).unwrap();
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    let mut ts = 0;
    for _ in 0..5 {
        ctx.write(&frame(ts), ts, 0).unwrap();
        ts += 1;
    }
    ctx.flush().unwrap();
    // From now on the catalog cannot grow.
    let mut filler = None;
    let mut old_limit = None;
    if tmpfs {
        println!("MODE: tmpfs");
        filler = Some(fill_up(&work));
    } else {
        println!("MODE: rlimit");
        let wal = std::fs::metadata(format!("{}-wal", path.with_extension("db").display()))
            .map(|m| m.len())
            .unwrap_or(0);
        let db = std::fs::metadata(path.with_extension("db")).unwrap().len();
        // SAFETY: signal and setrlimit only change this child process's own settings;
        // ignoring SIGXFSZ turns "file too large" into a failed write instead of a kill.
        unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let mut old = std::mem::zeroed::<libc::rlimit>();
            libc::getrlimit(libc::RLIMIT_FSIZE, &mut old);
            let limit = libc::rlimit {
                rlim_cur: wal.max(db) + 100,
                rlim_max: old.rlim_max,
            };
            assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
            old_limit = Some(old);
        }
    }
    let err = loop {
        match ctx.write(&frame(ts), ts, 0) {
            Ok(()) => ts += 1,
            Err(e) => break e,
        }
        assert!(ts < 10_000, "the catalog never filled up");
    };
    println!("ACKED: {ts}");
    println!("ERROR: code {} {err}", err.code());
    // Space comes back: the same write now succeeds.
    if let Some(filler) = filler {
        std::fs::remove_file(filler).unwrap();
    }
    if let Some(old) = old_limit {
        // SAFETY: restores this process's own limit.
        unsafe { assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &old), 0) };
    }
    ctx.write(&frame(ts), ts, 0).unwrap();
    ctx.write(&frame(ts + 1), ts + 1, 0).unwrap();
    ctx.flush().unwrap();
    println!("AFTER: {}", ts + 2);
    if tmpfs {
        // The parent cannot see this mount: hand it the files as a crash would leave them.
        for name in ["store.nts", "store.db", "store.db-wal"] {
            if work.join(name).exists() {
                std::fs::copy(work.join(name), dir.join(name)).unwrap();
            }
        }
    }
    // Leave like a crash would, without finishing the block.
    std::process::exit(0);
}

/// A full disk at a block transition: a clear error, nothing already written is lost, writing
/// goes on once there is space, and a reopened store reads everything back.
#[test]
fn a_full_disk_at_a_block_transition_fails_clearly_and_loses_nothing() {
    let dir = TempDir::new("fault-full");
    std::fs::create_dir(dir.file("small")).unwrap();
    let path = dir.file("store.nts");
    let (status, out) = run_child("disk_full_child", dir.path());
    assert!(status.success(), "child failed:\n{out}");
    let mode = field(&out, "MODE:");
    let acked: i64 = field(&out, "ACKED:").parse().unwrap();
    let error = field(&out, "ERROR:");
    let after: i64 = field(&out, "AFTER:").parse().unwrap();
    println!("full disk simulated with {mode}: {acked} frames acknowledged, then: {error}");
    assert!(error.starts_with("code 13"), "not a catalog error: {error}");
    if mode == "tmpfs" {
        assert!(
            error.contains("full"),
            "unclear error for a full disk: {error}"
        );
    } else {
        // A file-size limit reads as EFBIG, which SQLite reports as an I/O error.
        assert!(error.contains("I/O error"), "{error}");
    }
    assert!(acked >= 5);
    let writer = Writer::open(&path, false).unwrap();
    let keys = read_all(&path);
    assert_eq!(keys, (0..after).collect::<Vec<_>>(), "recovery lost frames");
    let mut ctx = writer.create_write_context("s", "").unwrap();
    ctx.write(&frame(after), after, 0).unwrap();
    drop(ctx);
    assert_eq!(read_all(&path).len() as i64, after + 1);
}
