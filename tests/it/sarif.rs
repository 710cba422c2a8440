//! `validate --format sarif` (filled in below).
