//! A connection to Redis: TLS (`rediss://`), a user and password from the URL, commands
//! counted (operations and bytes, for the scale benchmark), and the Lua scripts that make
//! fenced writes atomic.

use crate::{Error, Result};
use redis::{Connection, FromRedisValue, Script, ToRedisArgs};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Operations and bytes a process sent to and read from Redis.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Commands and scripts run.
    pub ops: AtomicU64,
    /// Bytes of keys and arguments sent.
    pub sent: AtomicU64,
    /// Bytes of values read.
    pub read: AtomicU64,
}

impl Traffic {
    /// (operations, bytes sent, bytes read) so far.
    pub fn totals(&self) -> (u64, u64, u64) {
        (
            self.ops.load(Ordering::Relaxed),
            self.sent.load(Ordering::Relaxed),
            self.read.load(Ordering::Relaxed),
        )
    }
}

/// A URL with its password replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((auth, host)) => match auth.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => format!("{scheme}://***@{host}"),
        },
        None => url.to_string(),
    }
}

/// Where and how to connect: the URL (`redis://[user[:password]@]host[:port][/db]`, or
/// `rediss://` for TLS) and, for TLS, a CA certificate file (PEM) to trust instead of the
/// system's.
#[derive(Debug, Clone)]
pub struct Server {
    /// The URL.
    pub url: String,
    /// A CA certificate (PEM) for `rediss://`.
    pub ca: Option<std::path::PathBuf>,
}

impl Server {
    /// A server by URL, with the system's CAs.
    pub fn new(url: &str) -> Server {
        Server {
            url: url.to_string(),
            ca: None,
        }
    }

    /// A new connection, checked with a PING (so that a missing or wrong password shows here).
    pub fn connect(&self, traffic: Arc<Traffic>) -> Result<Store> {
        let shown = redact(&self.url);
        let fail = |message: String| Error::Connect {
            url: shown.clone(),
            message,
        };
        let client = self.client().map_err(|e| fail(e.to_string()))?;
        let mut conn = client
            .get_connection_with_timeout(Duration::from_secs(10))
            .map_err(|e| fail(explain(&e)))?;
        let timeout = Some(Duration::from_secs(60));
        conn.set_read_timeout(timeout)
            .map_err(|e| fail(e.to_string()))?;
        conn.set_write_timeout(timeout)
            .map_err(|e| fail(e.to_string()))?;
        redis::cmd("PING")
            .query::<String>(&mut conn)
            .map_err(|e| fail(explain(&e)))?;
        Ok(Store {
            conn,
            traffic,
            shown,
        })
    }

    fn client(&self) -> std::result::Result<redis::Client, String> {
        if !self.url.starts_with("redis://")
            && !self.url.starts_with("rediss://")
            && !self.url.starts_with("redis+unix://")
            && !self.url.starts_with("unix://")
        {
            return Err("the URL must start with redis:// or rediss:// (TLS)".into());
        }
        let Some(ca) = &self.ca else {
            return redis::Client::open(self.url.as_str()).map_err(|e| e.to_string());
        };
        let root = std::fs::read(ca).map_err(|e| format!("--redis-ca {}: {e}", ca.display()))?;
        let certs = redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(root),
        };
        redis::Client::build_with_tls(self.url.as_str(), certs).map_err(|e| e.to_string())
    }
}

/// What a connection error means, with the way out for the usual ones.
fn explain(e: &redis::RedisError) -> String {
    let text = e.to_string();
    if text.contains("NOAUTH") {
        format!(
            "{text}: the server needs a password: redis://:PASSWORD@HOST:PORT (or USER:PASSWORD@)"
        )
    } else if ["WRONGPASS", "invalid password", "AuthenticationFailed"]
        .iter()
        .any(|w| text.contains(w))
    {
        format!("{text}: wrong user or password")
    } else {
        text
    }
}

/// One connection, counting its traffic.
pub struct Store {
    conn: Connection,
    traffic: Arc<Traffic>,
    shown: String,
}

impl Store {
    /// The URL, its password hidden.
    pub fn url(&self) -> &str {
        &self.shown
    }

    fn count(&self, sent: usize) {
        self.traffic.ops.fetch_add(1, Ordering::Relaxed);
        self.traffic.sent.fetch_add(sent as u64, Ordering::Relaxed);
    }

    fn got(&self, bytes: usize) {
        self.traffic.read.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Runs a command of `args` (name first).
    pub fn cmd<T: FromRedisValue>(&mut self, args: &[&dyn ToRedisArgsDyn]) -> Result<T> {
        let mut c = redis::Cmd::new();
        let mut sent = 0;
        for a in args {
            sent += a.put(&mut c);
        }
        self.count(sent);
        Ok(c.query(&mut self.conn)?)
    }

    /// The value of a key.
    pub fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>> {
        let v: Option<Vec<u8>> = self.cmd(&[&"GET", &key])?;
        self.got(v.as_ref().map_or(0, Vec::len));
        Ok(v)
    }

    /// The values of keys.
    pub fn mget(&mut self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut c = redis::cmd("MGET");
        let mut sent = 4;
        for k in keys {
            c.arg(k);
            sent += k.len();
        }
        self.count(sent);
        let v: Vec<Option<Vec<u8>>> = c.query(&mut self.conn)?;
        self.got(v.iter().flatten().map(Vec::len).sum());
        Ok(v)
    }

    /// Whether each key exists (one round trip; values are not read, so that polling for
    /// results stored by others costs bytes of keys, not of values).
    pub fn exist_each(&mut self, keys: &[String]) -> Result<Vec<bool>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = redis::pipe();
        for k in keys {
            p.cmd("EXISTS").arg(k);
            self.count(7 + k.len());
        }
        let v: Vec<i64> = p.query(&mut self.conn)?;
        Ok(v.into_iter().map(|n| n > 0).collect())
    }

    /// The fields of a hash.
    pub fn hgetall(&mut self, key: &str) -> Result<Vec<(String, String)>> {
        let v: Vec<(String, String)> = self.cmd(&[&"HGETALL", &key])?;
        self.got(v.iter().map(|(a, b)| a.len() + b.len()).sum());
        Ok(v)
    }

    /// Runs a script on `keys` and `args`.
    pub fn script<T: FromRedisValue>(
        &mut self,
        script: &Script,
        keys: &[&str],
        args: &[&[u8]],
    ) -> Result<T> {
        let mut inv = script.prepare_invoke();
        let mut sent = 0;
        for k in keys {
            inv.key(*k);
            sent += k.len();
        }
        for a in args {
            inv.arg(*a);
            sent += a.len();
        }
        self.count(sent);
        Ok(inv.invoke(&mut self.conn)?)
    }

    /// Every key matching a glob (SCAN, so that the server is not blocked).
    pub fn scan(&mut self, pattern: &str) -> Result<Vec<String>> {
        let mut cursor = 0u64;
        let mut keys = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) =
                self.cmd(&[&"SCAN", &cursor, &"MATCH", &pattern, &"COUNT", &1000])?;
            keys.extend(batch);
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }

    /// Deletes keys (in groups).
    pub fn del(&mut self, keys: &[String]) -> Result<()> {
        for group in keys.chunks(500) {
            let mut c = redis::cmd("DEL");
            for k in group {
                c.arg(k);
            }
            self.count(group.iter().map(String::len).sum());
            c.query::<()>(&mut self.conn)?;
        }
        Ok(())
    }
}

/// An argument of [`Store::cmd`].
pub trait ToRedisArgsDyn {
    /// Adds itself to the command; returns its size in bytes, roughly.
    fn put(&self, c: &mut redis::Cmd) -> usize;
}

impl<T: ToRedisArgs> ToRedisArgsDyn for T {
    fn put(&self, c: &mut redis::Cmd) -> usize {
        let args = self.to_redis_args();
        c.arg(self);
        args.iter().map(Vec::len).sum()
    }
}

/// Sets keys (KEYS[2..]) to values (ARGV[3..]) with a time to live of ARGV[2] seconds, if
/// KEYS[1] (a lease) holds the token ARGV[1].
pub const FENCED_SET: &str = r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED the lease ' .. KEYS[1] .. ' is not held by this process')
end
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i + 1], 'EX', ARGV[2])
end
return 1
"#;

/// Stores an island's round: if KEYS[1] (its lease) holds ARGV[1] and KEYS[2] (the current
/// experiment) is ARGV[2], sets KEYS[3] (the result) to ARGV[5] and KEYS[4] (the migrants) to
/// ARGV[6] (when not empty), and field ARGV[3] of hash KEYS[5] (rounds done) to ARGV[4] unless
/// it already says more; all for ARGV[7] seconds.
pub const WRITE_ROUND: &str = r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED the lease ' .. KEYS[1] .. ' is not held by this worker')
end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return redis.error_reply('STALE experiment ' .. ARGV[2] .. ' is over')
end
redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[7])
if ARGV[6] ~= '' then
  redis.call('SET', KEYS[4], ARGV[6], 'EX', ARGV[7])
end
local now = redis.call('HGET', KEYS[5], ARGV[3])
local done = now and tonumber(string.match(now, '%d+')) or -1
if tonumber(string.match(ARGV[4], '%d+')) > done then
  redis.call('HSET', KEYS[5], ARGV[3], ARGV[4])
end
redis.call('EXPIRE', KEYS[5], ARGV[7])
return 1
"#;

/// Renews lease KEYS[1] for ARGV[2] ms if it holds ARGV[1]; 1 if it did.
pub const RENEW: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"#;

/// Deletes lease KEYS[1] if it holds ARGV[1].
pub const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

/// The scripts, loaded once per process.
pub struct Scripts {
    /// [`FENCED_SET`].
    pub fenced_set: Script,
    /// [`WRITE_ROUND`].
    pub write_round: Script,
    /// [`RENEW`].
    pub renew: Script,
    /// [`RELEASE`].
    pub release: Script,
}

impl Default for Scripts {
    fn default() -> Self {
        Scripts {
            fenced_set: Script::new(FENCED_SET),
            write_round: Script::new(WRITE_ROUND),
            renew: Script::new(RENEW),
            release: Script::new(RELEASE),
        }
    }
}

/// Takes lease `key` for `ms` milliseconds with a new fencing token drawn from `fence`, if it
/// is free; returns the token.
pub fn take_lease(
    store: &mut Store,
    fence: &str,
    key: &str,
    holder: &str,
    ms: u64,
) -> Result<Option<String>> {
    let n: u64 = store.cmd(&[&"INCR", &fence])?;
    let token = format!("{n}:{holder}");
    let ok: Option<String> = store.cmd(&[&"SET", &key, &token, &"NX", &"PX", &ms])?;
    Ok(ok.map(|_| token))
}

/// Whether an error is a fencing refusal (the lease was lost) or a stale experiment.
pub fn fenced(e: &Error) -> bool {
    let text = e.to_string();
    text.contains("FENCED") || text.contains("STALE")
}

/// Whether a path names a readable file (for `--redis-ca`).
pub fn readable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}
