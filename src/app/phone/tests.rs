//! The phone model's own tests (see also `tests/app_phone.rs`, on the
//! two-phone bed).
