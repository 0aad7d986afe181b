//! A one-line progress bar on stderr, drawn only when stderr is a terminal.

use std::io::{IsTerminal, Write};

pub struct ProgressBar {
    label: String,
    enabled: bool,
    last_permille: Option<u32>,
}

impl ProgressBar {
    pub fn new(label: &str) -> ProgressBar {
        ProgressBar {
            label: label.to_owned(),
            enabled: std::io::stderr().is_terminal(),
            last_permille: None,
        }
    }

    /// Redraws when the fraction moved by at least 0.1 %.
    pub fn set(&mut self, fraction: f64, message: &str) {
        if !self.enabled {
            return;
        }
        let permille = (fraction.clamp(0.0, 1.0) * 1000.0) as u32;
        if self.last_permille == Some(permille) {
            return;
        }
        self.last_permille = Some(permille);
        let width = 30;
        let filled = (permille as usize * width) / 1000;
        let bar: String = "#".repeat(filled) + &"-".repeat(width - filled);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{} [{bar}] {:>5.1}% {message}\x1b[K",
            self.label,
            permille as f64 / 10.0
        );
        let _ = err.flush();
    }

    pub fn finish(&mut self, message: &str) {
        if self.enabled {
            let _ = writeln!(std::io::stderr(), "\r{} {message}\x1b[K", self.label);
        }
    }
}
