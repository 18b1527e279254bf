//! The tier of an implementation: which strategy it is, so that the comparison between
//! languages says what it compares.
//!
//! - `idiomatic`: the crates a good Rust team reaches for first, used competently (axum,
//!   serde_json, the `csv` crate, deadpool-postgres; tonic and prost for grpc).
//! - `tuned`: the algorithm and strategy of the fastest known implementation, the C one,
//!   written by hand in Rust (`std::arch` SSE2 where C uses SSE2, nothing the other languages
//!   are denied). HTTP stays axum's in both tiers: the tier is about the workload's own work.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tier {
    #[default]
    Idiomatic,
    Tuned,
}

impl Tier {
    pub const fn name(self) -> &'static str {
        match self {
            Tier::Idiomatic => "idiomatic",
            Tier::Tuned => "tuned",
        }
    }
}

impl FromStr for Tier {
    type Err = String;

    fn from_str(s: &str) -> Result<Tier, String> {
        match s {
            "idiomatic" => Ok(Tier::Idiomatic),
            "tuned" => Ok(Tier::Tuned),
            _ => Err(format!("want idiomatic or tuned, not '{s}'")),
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
