//! Seeded mutations for the short runs: bit flips, byte changes,
//! truncation, duplication of a slice, insertion of random bytes, and
//! overwriting with "interesting" integers (0, 0xff…, lengths near limits).

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A deterministic stream of mutated inputs from `seeds`.
#[derive(Debug)]
pub struct Mutator {
    rng: ChaCha8Rng,
    seeds: Vec<Vec<u8>>,
}

const INTERESTING: &[u32] = &[0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x1_0000, 0x7fff_ffff, 0x8000_0000, u32::MAX];

impl Mutator {
    pub fn new(seed: u64, seeds: Vec<Vec<u8>>) -> Mutator {
        Mutator { rng: ChaCha8Rng::seed_from_u64(seed), seeds }
    }

    /// The next input: a seed with 1 to 8 mutations, or sometimes random bytes.
    pub fn next_input(&mut self) -> Vec<u8> {
        if self.seeds.is_empty() || self.rng.gen_ratio(1, 16) {
            let mut v = vec![0u8; self.rng.gen_range(0..512)];
            self.rng.fill_bytes(&mut v);
            return v;
        }
        let mut v = self.seeds[self.rng.gen_range(0..self.seeds.len())].clone();
        for _ in 0..self.rng.gen_range(1..=8) {
            self.mutate(&mut v);
        }
        v
    }

    fn mutate(&mut self, v: &mut Vec<u8>) {
        let len = v.len();
        match self.rng.gen_range(0..6) {
            0 if len > 0 => {
                let i = self.rng.gen_range(0..len);
                v[i] ^= 1 << self.rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = self.rng.gen_range(0..len);
                v[i] = self.rng.r#gen();
            }
            2 if len > 0 => v.truncate(self.rng.gen_range(0..len)),
            3 if len > 0 => {
                let (a, b) = (self.rng.gen_range(0..len), self.rng.gen_range(0..len));
                let (a, b) = (a.min(b), a.max(b));
                let slice = v[a..b].to_vec();
                let at = self.rng.gen_range(0..=len);
                v.splice(at..at, slice);
                v.truncate(1 << 20);
            }
            4 if len >= 4 => {
                let i = self.rng.gen_range(0..=len - 4);
                let x = INTERESTING[self.rng.gen_range(0..INTERESTING.len())];
                v[i..i + 4].copy_from_slice(&x.to_le_bytes());
            }
            _ => {
                let at = self.rng.gen_range(0..=len);
                let mut extra = vec![0u8; self.rng.gen_range(1..16)];
                self.rng.fill_bytes(&mut extra);
                v.splice(at..at, extra);
            }
        }
    }
}
