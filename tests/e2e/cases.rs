//! Case files for the police liaison: create, approve, hand over, export, verify.
