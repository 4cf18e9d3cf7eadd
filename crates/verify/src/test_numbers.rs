//! [`TestNumbers`]: numbers that get a fixed code and never an SMS, for
//! app-store review and QA accounts.

use std::collections::HashMap;

use crate::types::{Mobile, SmsCode};

/// Mobiles with a fixed code. For such a number the send step stores the
/// fixed code (captcha, per-IP and per-mobile limits still apply) and calls
/// no sender; the code is checked like any other. Empty by default.
///
/// Anyone who knows a test number and its code can sign in as it, so keep
/// the list short, the codes out of public documents, and the numbers ones
/// you own or that cannot receive SMS.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TestNumbers(HashMap<Mobile, SmsCode>);

impl TestNumbers {
    /// No test numbers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `mobile` with its fixed `code`; the last one given for a number
    /// wins.
    pub fn insert(&mut self, mobile: Mobile, code: SmsCode) {
        self.0.insert(mobile, code);
    }

    /// The fixed code of `mobile`, when it is a test number.
    pub fn get(&self, mobile: &Mobile) -> Option<&SmsCode> {
        self.0.get(mobile)
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The numbers, masked (`138****5678`), for a start-up log line.
    pub fn masked(&self) -> Vec<String> {
        let mut out: Vec<String> = self.0.keys().map(Mobile::masked).collect();
        out.sort();
        out
    }
}

// Numbers masked, codes never shown.
impl std::fmt::Debug for TestNumbers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TestNumbers").field(&self.masked()).finish()
    }
}
