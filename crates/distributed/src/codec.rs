//! Values in Redis: a tag (`AZ1`), then JSON compressed with gzip. Reading checks the tag,
//! the size and the JSON, and names the key in every error.

use crate::{Result, bad};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::{Read, Write};

/// The tag every value starts with (the format's version).
pub const TAG: &[u8] = b"AZ1";

/// The largest value read back (1 GiB uncompressed).
const MAX_SIZE: u64 = 1 << 30;

/// A value as stored.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let json = serde_json::to_vec(value).expect("protocol values serialize");
    let mut out = GzEncoder::new(TAG.to_vec(), Compression::fast());
    out.write_all(&json).expect("writing to memory");
    out.finish().expect("writing to memory")
}

/// The value stored under `key`.
pub fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T> {
    let Some(body) = bytes.strip_prefix(TAG) else {
        return Err(bad(
            key,
            "not a value of automl-zero (no AZ1 tag): foreign or damaged",
        ));
    };
    let mut json = Vec::new();
    GzDecoder::new(body)
        .take(MAX_SIZE)
        .read_to_end(&mut json)
        .map_err(|e| bad(key, format!("damaged value ({e})")))?;
    let mut de = serde_json::Deserializer::from_slice(&json);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        bad(
            key,
            format!("unreadable value at {}: {}", e.path(), e.inner()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_damage_names_the_key() {
        let v = vec![1.5f64, 0.1 + 0.2];
        let back: Vec<f64> = decode("k", &encode(&v)).unwrap();
        assert_eq!(back, v);
        let e = decode::<Vec<f64>>("the:key", b"hello")
            .unwrap_err()
            .to_string();
        assert!(e.contains("the:key") && e.contains("foreign"), "{e}");
        let mut damaged = encode(&v);
        damaged.truncate(8);
        let e = decode::<Vec<f64>>("k2", &damaged).unwrap_err().to_string();
        assert!(e.contains("k2") && e.contains("damaged"), "{e}");
        let e = decode::<Vec<String>>("k3", &encode(&v))
            .unwrap_err()
            .to_string();
        assert!(e.contains("k3") && e.contains("unreadable"), "{e}");
    }
}
