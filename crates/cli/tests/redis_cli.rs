//! Runs through a real Redis with real processes: 1, 2 and 3 workers give the one-process
//! result; so do a worker killed with SIGKILL and a search killed and resumed; a corrupted
//! value is an error naming its key; two runs on one server do not mix; a password, when set,
//! is required; TLS works.
//!
//! The server: `AUTOML_ZERO_TEST_REDIS` (a URL; `.ci/run` starts one), else a `redis-server`
//! this test starts on a free port. Under CI (`CI` set) a missing server is a failure; elsewhere
//! these tests say so and pass.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_automl-zero");

/// A redis-server this test started (stopped when dropped).
struct OwnServer {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `redis-server` with `args` on a free port (None if it is not installed).
fn own_server(args: &[&str], scheme: &str) -> Option<OwnServer> {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let port_flag = if scheme == "rediss" {
        "--tls-port"
    } else {
        "--port"
    };
    let mut cmd = Command::new("redis-server");
    cmd.args([
        port_flag,
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
    ])
    .args(["--appendonly", "no", "--dir"])
    .arg(dir.path())
    .args(args)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    if scheme == "rediss" {
        cmd.args(["--port", "0"]);
    }
    let child = cmd.spawn().ok()?;
    let server = OwnServer {
        child,
        url: format!("{scheme}://127.0.0.1:{port}"),
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(server)
}

/// The shared server's URL, or `None` (outside CI) when there is none to be had.
fn server() -> Option<(String, Option<OwnServer>)> {
    if let Ok(url) = std::env::var("AUTOML_ZERO_TEST_REDIS") {
        return Some((url, None));
    }
    match own_server(&[], "redis") {
        Some(s) => Some((s.url.clone(), Some(s))),
        None if std::env::var_os("CI").is_some() => {
            panic!("no Redis: set AUTOML_ZERO_TEST_REDIS or install redis-server (.ci/run does)")
        }
        None => {
            eprintln!("skipped: no Redis (AUTOML_ZERO_TEST_REDIS unset, redis-server missing)");
            None
        }
    }
}

/// A small search that runs a few rounds per experiment, over `islands` islands.
fn args(seed: u64, experiments: u64) -> Vec<String> {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/linear.toml");
    let mut a = vec![
        config.display().to_string(),
        "--seed".into(),
        seed.to_string(),
    ];
    for s in [
        "search.islands=3",
        "search.population_size=60",
        "search.batch_size=15",
        "search.migrate_every=150",
        "search.migrants=5",
        "search.max_individuals=1500",
        "search.progress_every=300",
        "sufficient_fitness=0.9999",
    ] {
        a.extend(["--set".to_string(), s.to_string()]);
    }
    a.extend(["--set".into(), format!("max_experiments={experiments}")]);
    a.extend(["--threads".into(), "1".into(), "--quiet".into()]);
    a
}

fn cmd(args: &[String]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).env("AUTOML_ZERO_LEASE_MS", "1500");
    c
}

fn run(args: &[String]) -> Output {
    cmd(args).output().unwrap()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "status {:?}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The result of a run folder: best.txt and summary.json but its timing.
fn result(dir: &Path) -> (String, serde_json::Value) {
    let best = std::fs::read_to_string(dir.join("best.txt")).unwrap();
    let mut summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    summary["elapsed_seconds"] = 0.into();
    (best, summary)
}

/// The one-process run of `args`, in `dir`.
fn one_process(args: &[String], dir: &Path) -> (String, serde_json::Value) {
    let mut a = args.to_vec();
    a.extend(["--out".into(), dir.display().to_string()]);
    ok(&run(&a));
    result(dir)
}

fn redis_args(args: &[String], url: &str, run: &str, out: &Path) -> Vec<String> {
    let mut a = args.to_vec();
    a.extend(["--out".into(), out.display().to_string()]);
    a.extend(["--redis".into(), url.into(), "--run".into(), run.into()]);
    a
}

fn worker(url: &str, run: Option<&str>) -> Child {
    let mut a: Vec<String> = vec!["worker".into(), "--redis".into(), url.into()];
    a.extend(["--threads".into(), "1".into(), "--exit-when-idle".into()]);
    if let Some(r) = run {
        a.extend(["--run".into(), r.into()]);
    }
    cmd(&a)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn search_args(a: &[String]) -> Vec<String> {
    let mut v = vec!["search".to_string()];
    v.extend_from_slice(a);
    v
}

#[test]
fn one_two_and_three_workers_give_the_one_process_result() {
    let Some((url, _server)) = server() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let base = search_args(&args(11, 2));
    let expected = one_process(&base, &tmp.path().join("one"));
    for extra in 0..3 {
        let run = format!("workers-{extra}-{}", std::process::id());
        let out = tmp.path().join(&run);
        let mut workers: Vec<Child> = (0..extra).map(|_| worker(&url, Some(&run))).collect();
        ok(&run_cmd(&redis_args(&base, &url, &run, &out)));
        for w in &mut workers {
            assert!(w.wait().unwrap().success());
        }
        assert_eq!(result(&out), expected, "{} workers", extra + 1);
    }
}

fn run_cmd(a: &[String]) -> Output {
    run(a)
}

#[test]
fn a_killed_worker_and_a_killed_search_resumed_give_the_one_process_result() {
    let Some((url, _server)) = server() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let base = search_args(&args(5, 6));
    let expected = one_process(&base, &tmp.path().join("one"));
    let run = format!("killed-{}", std::process::id());
    let out = tmp.path().join(&run);
    let a = redis_args(&base, &url, &run, &out);
    let mut search = cmd(&a)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut doomed = worker(&url, Some(&run));
    let mut helper = worker(&url, Some(&run));
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        doomed.try_wait().unwrap().is_none(),
        "the run ended before the kill"
    );
    doomed.kill().unwrap(); // SIGKILL
    doomed.wait().unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    assert!(
        search.try_wait().unwrap().is_none(),
        "the run ended before the kill"
    );
    search.kill().unwrap();
    search.wait().unwrap();
    // The folder's run, carried on through Redis (once the dead search's lease runs out).
    let resume: Vec<String> = vec![
        "search".into(),
        "--resume".into(),
        out.display().to_string(),
        "--redis".into(),
        url.clone(),
        "--threads".into(),
        "1".into(),
        "--quiet".into(),
    ];
    ok(&run_cmd(&resume));
    assert!(helper.wait().unwrap().success());
    assert_eq!(result(&out), expected);
}

fn redis_cli(url: &str, command: &[&str]) {
    let port = url.rsplit(':').next().unwrap().trim_end_matches('/');
    let out = Command::new("redis-cli")
        .args(["-p", port])
        .args(command)
        .output()
        .expect("redis-cli runs");
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn a_corrupted_value_in_redis_is_an_error_naming_its_key() {
    let Some((url, _server)) = server() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // A damaged meta: the run cannot be taken up.
    let run = format!("damaged-{}", std::process::id());
    let key = format!("automl-zero:{{{run}}}:meta");
    redis_cli(&url, &["SET", &key, "not ours"]);
    let out = run_cmd(&redis_args(
        &search_args(&args(3, 1)),
        &url,
        &run,
        &tmp.path().join("a"),
    ));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&key) && err.contains("foreign or damaged"),
        "{err}"
    );
    // A damaged state of a stopped run: resuming names the key.
    let run = format!("damaged2-{}", std::process::id());
    let dir = tmp.path().join(&run);
    let a = redis_args(&search_args(&args(3, 6)), &url, &run, &dir);
    let mut search = cmd(&a)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let key = format!("automl-zero:{{{run}}}:driver");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !exists(&url, &key) {
        assert!(Instant::now() < deadline, "no state was kept");
        std::thread::sleep(Duration::from_millis(100));
    }
    search.kill().unwrap();
    search.wait().unwrap();
    redis_cli(&url, &["SET", &key, "AZ1 but not gzip"]);
    let resume: Vec<String> = vec![
        "search".into(),
        "--resume".into(),
        dir.display().to_string(),
        "--redis".into(),
        url.clone(),
    ];
    let out = run_cmd(&resume);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&key) && err.contains("damaged"), "{err}");
    let forget = ["forget", "--redis", &url, "--run", &run, "--force"];
    ok(&run_cmd(&forget.map(String::from)));
}

fn exists(url: &str, key: &str) -> bool {
    let port = url.rsplit(':').next().unwrap();
    let out = Command::new("redis-cli")
        .args(["-p", port, "EXISTS", key])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "1"
}

#[test]
fn two_runs_on_one_server_do_not_mix() {
    let Some((url, _server)) = server() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (search_args(&args(21, 2)), search_args(&args(22, 2)));
    let (ea, eb) = (
        one_process(&a, &tmp.path().join("a1")),
        one_process(&b, &tmp.path().join("b1")),
    );
    assert_ne!(ea, eb);
    let pid = std::process::id();
    let (ra, rb) = (format!("mix-a-{pid}"), format!("mix-b-{pid}"));
    let (oa, ob) = (tmp.path().join(&ra), tmp.path().join(&rb));
    // One worker serving every run on the server, and the two searches at once.
    let mut shared = worker(&url, None);
    let sa = cmd(&redis_args(&a, &url, &ra, &oa)).output();
    let handle = std::thread::spawn({
        let args = redis_args(&b, &url, &rb, &ob);
        move || run(&args)
    });
    ok(&sa.unwrap());
    ok(&handle.join().unwrap());
    let _ = shared.kill();
    let _ = shared.wait();
    assert_eq!(result(&oa), ea);
    assert_eq!(result(&ob), eb);
    let status = run(&["status", "--redis", &url, "--run", &ra].map(String::from));
    ok(&status);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains(&format!("run {ra}: finished")), "{text}");
    // The finished run's totals are the run folder's (its last round, cut, included).
    let individuals = format!(" {} individuals,", ea.1["individuals"]);
    assert!(text.contains(&individuals), "{text}");
}

#[test]
fn the_password_is_required_when_set() {
    let Some(server) = own_server(&["--requirepass", "s3cret"], "redis") else {
        assert!(std::env::var_os("CI").is_none(), "redis-server is missing");
        return;
    };
    let port = server.url.rsplit(':').next().unwrap().to_string();
    let status = |url: &str| run(&["status", "--redis", url].map(String::from));
    let out = status(&server.url);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("needs a password"), "{err}");
    let out = status(&format!("redis://:wrong@127.0.0.1:{port}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("wrong user or password") && !err.contains("wrong@"),
        "{err}"
    );
    ok(&status(&format!("redis://:s3cret@127.0.0.1:{port}")));
    // An ACL user.
    let acl = Command::new("redis-cli")
        .args(["-p", &port, "-a", "s3cret", "--no-auth-warning"])
        .args(["ACL", "SETUSER", "alice", "on", ">pw", "~*", "&*", "+@all"])
        .output()
        .unwrap();
    assert!(acl.status.success());
    ok(&status(&format!("redis://alice:pw@127.0.0.1:{port}")));
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("redis://alice:pw@127.0.0.1:{port}");
    let a = search_args(&args(9, 1));
    let expected = one_process(&a, &tmp.path().join("one"));
    ok(&run(&redis_args(&a, &url, "acl", &tmp.path().join("acl"))));
    assert_eq!(result(&tmp.path().join("acl")), expected);
}

/// A self-signed CA and a server certificate for 127.0.0.1, made with openssl.
fn certificates(dir: &Path) -> Option<PathBuf> {
    let sh = format!(
        "cd {} && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca \
         -keyout ca.key -out ca.pem && openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
         -keyout server.key -out server.csr && printf 'subjectAltName=IP:127.0.0.1\\n' > ext && \
         openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
         -extfile ext -out server.pem",
        dir.display()
    );
    let ok = Command::new("sh").args(["-c", &sh]).output().ok()?;
    ok.status.success().then(|| dir.join("ca.pem"))
}

#[test]
fn rediss_connects_with_tls() {
    let certs = tempfile::tempdir().unwrap();
    let Some(ca) = certificates(certs.path()) else {
        eprintln!("skipped: no openssl");
        return;
    };
    let d = certs.path().display();
    let (cert, key) = (format!("{d}/server.pem"), format!("{d}/server.key"));
    let flags = [
        "--tls-cert-file",
        &cert,
        "--tls-key-file",
        &key,
        "--tls-ca-cert-file",
        ca.to_str().unwrap(),
        "--tls-auth-clients",
        "no",
    ];
    let Some(server) = own_server(&flags, "rediss") else {
        assert!(std::env::var_os("CI").is_none(), "redis-server is missing");
        return;
    };
    let ca = ca.display().to_string();
    let out = run(&["status", "--redis", &server.url, "--redis-ca", &ca].map(String::from));
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("no runs"));
    // Without the CA, the server's certificate is not trusted.
    let out = run(&["status", "--redis", &server.url].map(String::from));
    assert_eq!(out.status.code(), Some(2));
}
