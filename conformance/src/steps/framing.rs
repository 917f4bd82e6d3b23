//! Steps of the framing features.

use super::StepFn;

pub const STEPS: &[(&str, StepFn)] = &[];
