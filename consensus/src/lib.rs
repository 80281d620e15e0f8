//! Tendermint consensus core (in progress).
