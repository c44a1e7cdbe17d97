//! Kernel versions: which release the lock model describes. Model entries
//! carry `since`/`until` ranges; a run picks one version (from the checked
//! tree, a patch, `--kernel` or `faultlock.toml`, else the newest known).

use std::fmt;

/// A kernel release, `major.minor` (`6.12`, `7.3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
}

impl KernelVersion {
    /// The newest release the model describes, used when nothing says which.
    pub const NEWEST: KernelVersion = KernelVersion::new(7, 3);

    pub const fn new(major: u32, minor: u32) -> KernelVersion {
        KernelVersion { major, minor }
    }

    /// `X.Y` (a third component, `6.12.5`, is accepted and ignored).
    pub fn parse(text: &str) -> Result<KernelVersion, String> {
        let bad = || format!("`{text}` is not a kernel version like `6.12`");
        let mut parts = text.trim().split('.');
        let mut num = || -> Result<u32, String> {
            let p = parts.next().ok_or_else(bad)?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 4 {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        let (major, minor) = (num()?, num()?);
        match parts.next() {
            None => {}
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {}
            Some(_) => return Err(bad()),
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(KernelVersion::new(major, minor))
    }

    /// The version a kernel top-level `Makefile` declares (`VERSION = 7`,
    /// `PATCHLEVEL = 3`), if it is one.
    pub fn from_makefile(text: &str) -> Option<KernelVersion> {
        let var = |name: &str| {
            text.lines().take(40).find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == name).then(|| v.trim().parse::<u32>().ok())?
            })
        };
        Some(KernelVersion::new(var("VERSION")?, var("PATCHLEVEL")?))
    }

    /// The newest release out on `date` (`(year, month, day)`): the
    /// version a patch mailed that day was most likely written against.
    /// Dates before the first known release give the first one.
    pub fn current_on(date: (i32, u32, u32)) -> KernelVersion {
        RELEASES
            .iter()
            .rev()
            .find(|(_, d)| *d <= date)
            .or(RELEASES.first())
            .map(|(v, _)| KernelVersion::parse(v).expect("release table is valid"))
            .unwrap_or(KernelVersion::NEWEST)
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The version a run uses and where it came from (`--kernel`,
/// `faultlock.toml`, a tree's `Makefile`, a patch), for `--stats` and
/// verbose output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelChoice {
    pub version: KernelVersion,
    pub source: String,
}

impl Default for KernelChoice {
    fn default() -> Self {
        KernelChoice {
            version: KernelVersion::NEWEST,
            source: "default (newest known)".into(),
        }
    }
}

impl fmt::Display for KernelChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.version, self.source)
    }
}

/// Mainline release dates, oldest first. Releases after the 7.3 corpus are
/// added here with the model entries that describe them.
const RELEASES: &[(&str, (i32, u32, u32))] = &[
    ("5.0", (2019, 3, 3)),
    ("5.1", (2019, 5, 5)),
    ("5.2", (2019, 7, 7)),
    ("5.3", (2019, 9, 15)),
    ("5.4", (2019, 11, 24)),
    ("5.5", (2020, 1, 26)),
    ("5.6", (2020, 3, 29)),
    ("5.7", (2020, 5, 31)),
    ("5.8", (2020, 8, 2)),
    ("5.9", (2020, 10, 11)),
    ("5.10", (2020, 12, 13)),
    ("5.11", (2021, 2, 14)),
    ("5.12", (2021, 4, 25)),
    ("5.13", (2021, 6, 27)),
    ("5.14", (2021, 8, 29)),
    ("5.15", (2021, 10, 31)),
    ("5.16", (2022, 1, 9)),
    ("5.17", (2022, 3, 20)),
    ("5.18", (2022, 5, 22)),
    ("5.19", (2022, 7, 31)),
    ("6.0", (2022, 10, 2)),
    ("6.1", (2022, 12, 11)),
    ("6.2", (2023, 2, 19)),
    ("6.3", (2023, 4, 23)),
    ("6.4", (2023, 6, 25)),
    ("6.5", (2023, 8, 27)),
    ("6.6", (2023, 10, 30)),
    ("6.7", (2024, 1, 7)),
    ("6.8", (2024, 3, 10)),
    ("6.9", (2024, 5, 12)),
    ("6.10", (2024, 7, 14)),
    ("6.11", (2024, 9, 15)),
    ("6.12", (2024, 11, 17)),
    ("6.13", (2025, 1, 19)),
    ("6.14", (2025, 3, 24)),
    ("6.15", (2025, 5, 25)),
    ("6.16", (2025, 7, 27)),
    ("6.17", (2025, 9, 28)),
    ("6.18", (2025, 11, 30)),
    ("6.19", (2026, 2, 8)),
    ("7.0", (2026, 4, 12)),
    ("7.1", (2026, 6, 14)),
    ("7.2", (2026, 8, 16)),
    ("7.3", (2026, 10, 18)),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let v = KernelVersion::parse("6.12").unwrap();
        assert_eq!(v, KernelVersion::new(6, 12));
        assert_eq!(KernelVersion::parse("6.12.7").unwrap(), v);
        assert!(KernelVersion::new(6, 5) < KernelVersion::new(6, 12));
        assert!(KernelVersion::new(6, 12) < KernelVersion::new(7, 0));
        assert_eq!(v.to_string(), "6.12");
        for bad in ["", "6", "6.", "x.1", "6.12.", "6.1.2.3", "-1.2", "6.12rc1"] {
            assert!(KernelVersion::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn makefile_version() {
        let mk = "# SPDX\nVERSION = 7\nPATCHLEVEL = 3\nSUBLEVEL = 4\nEXTRAVERSION =\n";
        assert_eq!(
            KernelVersion::from_makefile(mk),
            Some(KernelVersion::new(7, 3))
        );
        assert_eq!(KernelVersion::from_makefile("all:\n\tcc x.c\n"), None);
    }

    #[test]
    fn release_current_on_a_date() {
        let on = |d| KernelVersion::current_on(d).to_string();
        assert_eq!(on((2024, 11, 17)), "6.12");
        assert_eq!(on((2024, 11, 16)), "6.11");
        assert_eq!(on((2023, 9, 1)), "6.5");
        assert_eq!(on((2030, 1, 1)), "7.3");
        assert_eq!(on((2000, 1, 1)), "5.0");
        for w in RELEASES.windows(2) {
            assert!(w[0].1 < w[1].1);
            assert!(KernelVersion::parse(w[0].0).unwrap() < KernelVersion::parse(w[1].0).unwrap());
        }
    }
}
