//! Steps of the routing features.

use super::StepFn;

pub const STEPS: &[(&str, StepFn)] = &[];
