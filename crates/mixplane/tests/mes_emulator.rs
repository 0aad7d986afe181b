//! `mixplane mes-emulator` as its own process: it prints where it serves and the default
//! credentials, which sign in; the fault flags given at start are in force; at a speed above
//! 0 plant time moves by itself; long sets page.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The emulator process, killed when dropped.
struct Emulator {
    child: Child,
    base: String,
    printed: Vec<String>,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Emulator {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .arg("mes-emulator")
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    // The address line, then the four lines about the plant, signing in, services and admin.
    for _ in 0..5 {
        printed.push(lines.next().expect("a line").expect("text"));
    }
    std::thread::spawn(move || lines.for_each(drop));
    let base = printed[0]
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the address")
        .to_owned();
    Emulator {
        child,
        base,
        printed,
    }
}

#[tokio::test]
async fn the_printed_defaults_sign_in_and_the_start_faults_hold() {
    let emulator = start(&[
        "--speed",
        "3600",
        "--page-size",
        "5",
        "--throttle",
        "1",
        "--retry-after",
        "4",
    ]);
    let all = emulator.printed.join("\n");
    assert!(all.contains("mixplane-connector:emulator-secret"), "{all}");
    assert!(all.contains("user mixplane / mixplane-emulator"), "{all}");
    let client = reqwest::Client::new();
    let sign_in = || {
        client
            .post(format!("{}/sit-auth/OAuth/Token", emulator.base))
            .basic_auth("mixplane-connector", Some("emulator-secret"))
            .form(&[
                ("grant_type", "password"),
                ("username", "mixplane"),
                ("password", "mixplane-emulator"),
                ("scope", "global"),
            ])
            .send()
    };
    // --throttle 1: the first request is refused with Retry-After, the next goes through.
    let throttled = sign_in().await.unwrap();
    assert_eq!(throttled.status(), 429);
    assert_eq!(throttled.headers()["Retry-After"], "4");
    let token: Value = sign_in().await.unwrap().json().await.unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();

    // At ×3600 a wall second is a plant hour: the plant moves without being told.
    let status = || {
        client
            .get(format!("{}/emulator/status", emulator.base))
            .basic_auth("mixplane", Some("mixplane-emulator"))
            .send()
    };
    let began = Instant::now();
    loop {
        let now: Value = status().await.unwrap().json().await.unwrap();
        if now["plant_time"] != now["start"] && now["events"].as_u64().unwrap() > 0 {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "the plant never moved: {now}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let page: Value = client
        .get(format!(
            "{}/sit-svc/Application/AppU4DM/odata/WorkOrderOperation?$orderby=ModifiedOn,Id",
            emulator.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 5, "{page}");
    assert!(page["@odata.nextLink"].is_string(), "{page}");
}

#[test]
fn a_bad_fault_flag_is_refused_by_name() {
    let out = Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(["mes-emulator", "--bind", "127.0.0.1:0", "--faults"])
        .arg(r#"{"throttle": {"count": 1, "status": 500}}"#)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("429 or 503"), "{stderr}");
}
