//! Hashing and time formatting shared by the signers.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// Lower-case hex of `bytes`; every signature scheme here wants that form.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// Lower-case hex of SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// HMAC-SHA256 of `data` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("hmac accepts any key length"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// A UTC instant split into calendar fields, so each provider's timestamp
/// format is one `format!` without a date-time dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
}

impl Civil {
    /// The calendar fields of `unix_secs` (seconds since 1970-01-01 UTC).
    pub(crate) fn from_unix(unix_secs: i64) -> Self {
        let days = unix_secs.div_euclid(86_400);
        let secs = unix_secs.rem_euclid(86_400);
        // Days to civil date in the proleptic Gregorian calendar
        // (H. Hinnant's `civil_from_days`), eras of 400 years.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year,
            month,
            day,
            hour: (secs / 3_600) as u32,
            minute: (secs % 3_600 / 60) as u32,
            second: (secs % 60) as u32,
        }
    }

    /// `2023-10-26`.
    pub(crate) fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `2023-10-26T10:22:32Z` (ISO 8601, seconds).
    pub(crate) fn iso8601(&self) -> String {
        format!(
            "{}T{:02}:{:02}:{:02}Z",
            self.date(),
            self.hour,
            self.minute,
            self.second
        )
    }

    /// `20231026102232` (`yyyyMMddHHmmss`).
    pub(crate) fn compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Seconds since the Unix epoch now.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn civil_dates() {
        // `date -u -d @1551113065` and friends.
        assert_eq!(
            Civil::from_unix(1_551_113_065).iso8601(),
            "2019-02-25T16:44:25Z"
        );
        assert_eq!(Civil::from_unix(0).compact(), "19700101000000");
        assert_eq!(Civil::from_unix(951_782_400).date(), "2000-02-29");
        assert_eq!(
            Civil::from_unix(1_698_315_752).iso8601(),
            "2023-10-26T10:22:32Z"
        );
    }
}
