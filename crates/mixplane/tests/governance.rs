//! The governance commands of the binary: `token create` prints a token once and never
//! rebinds a name, `token issue`/`update`/`revoke` keep the last global admin, `audit export`
//! writes the trail as JSON Lines, and `audit verify` passes on an intact trail and names the
//! first bad record after a record is edited, deleted, inserted or swapped in the database.

use std::path::Path;
use std::process::{Command, Output};

use sqlx::{Connection, SqliteConnection};

mod common;
use common::OnTestBackend;

use common::TempDir;

fn mixplane(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("MIXPLANE_DATA_DIR")
        .on_test_backend()
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Four audited writes: four tokens.
fn trail(dir: &Path) {
    for (name, role, scope) in [
        ("ann", "planner", "area:A-CHEM"),
        ("bob", "viewer", "*"),
        ("cy", "supervisor", "site:RHF"),
        ("bot", "agent", "*"),
    ] {
        let out = mixplane(
            dir,
            &[
                "token", "create", "--name", name, "--role", role, "--scope", scope,
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let token = text(&out.stdout);
        assert!(token.trim().starts_with("mxp_"), "{token}");
        assert_eq!(token.lines().count(), 1, "only the token goes to stdout");
    }
}

/// Runs statements on the store of `dir` behind its back (its SQLite file, or on PostgreSQL
/// its schema).
async fn tamper(dir: &Path, sql: &[&str]) {
    if let Some((url, schema)) = store::test_support::postgres_at(&dir.join("mixplane.db")) {
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(&format!("SET search_path TO {schema}"))
            .execute(&mut conn)
            .await
            .unwrap();
        for statement in sql {
            sqlx::query(statement).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
        return;
    }
    let url = format!("sqlite://{}", dir.join("mixplane.db").display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    for statement in sql {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
}

#[test]
fn token_create_audit_export_and_verify() {
    let dir = TempDir::new("ok");
    trail(&dir.0);
    let bad = mixplane(
        &dir.0,
        &["token", "create", "--name", "x", "--role", "boss"],
    );
    assert!(!bad.status.success());
    // A closed choice: clap refuses it naming the value and listing the roles.
    let error = text(&bad.stderr);
    assert!(error.contains("invalid value 'boss'"), "{error}");
    assert!(error.contains("quality_engineer"), "{error}");

    let verify = mixplane(&dir.0, &["audit", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert!(text(&verify.stdout).contains("audit trail intact: 4 records"));

    let out = dir.0.join("audit.jsonl");
    let export = mixplane(&dir.0, &["audit", "export", "--out", out.to_str().unwrap()]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["seq"], 1);
    assert_eq!(lines[0]["action"], "principal.create");
    assert_eq!(lines[3]["detail"]["granted_role"], "agent");
    assert_eq!(lines[1]["prev_hash"], lines[0]["hash"]);
}

#[tokio::test]
async fn audit_verify_names_the_first_bad_record_after_tampering() {
    let cases: [(&str, &[&str], &str); 4] = [
        (
            "edit",
            &["UPDATE audit SET detail = '{\"granted_role\":\"admin\"}' WHERE seq = 2"],
            "broken at record 2 (Altered)",
        ),
        (
            "delete",
            &["DELETE FROM audit WHERE seq = 2"],
            "broken at record 3 (Removed)",
        ),
        (
            "insert",
            &[
                "UPDATE audit SET seq = seq + 100 WHERE seq >= 3",
                "UPDATE audit SET seq = seq - 99 WHERE seq >= 103",
                "INSERT INTO audit (seq, at, actor_kind, actor_id, action, subject, detail, prev_hash, hash)
                 SELECT 3, at, actor_kind, 'mallory', action, 'principal:mallory', detail, hash, hash
                 FROM audit WHERE seq = 2",
            ],
            "broken at record 3 (Altered)",
        ),
        (
            "swap",
            &[
                "UPDATE audit SET seq = -1 WHERE seq = 2",
                "UPDATE audit SET seq = 2 WHERE seq = 3",
                "UPDATE audit SET seq = 3 WHERE seq = -1",
            ],
            "broken at record 2 (Altered)",
        ),
    ];
    for (name, sql, expected) in cases {
        let dir = TempDir::new(name);
        trail(&dir.0);
        tamper(&dir.0, sql).await;
        let verify = mixplane(&dir.0, &["audit", "verify"]);
        assert_eq!(
            verify.status.code(),
            Some(1),
            "{name}: tampering must fail verification with exit 1"
        );
        let stderr = text(&verify.stderr);
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

/// A typo in `--data-dir` used to create an empty store there and report "audit trail intact:
/// 0 records" with exit 0. A command that reads data refuses a directory without a store,
/// naming it, and creates nothing; `audit verify` exits 2 for a trail it cannot read (1 is
/// for a broken one).
#[test]
fn reading_commands_refuse_a_directory_without_a_store() {
    let parent = TempDir::new("typo");
    let typo = parent.0.join("typo-dir");
    let verify = mixplane(&typo, &["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(2), "{}", text(&verify.stderr));
    let stderr = text(&verify.stderr);
    // On PostgreSQL the store the directory stands for is a schema: the message names it.
    let named = if store::test_support::on_postgres() {
        "schema=p_"
    } else {
        "typo-dir"
    };
    assert!(stderr.contains(named), "names the store: {stderr}");
    assert!(stderr.contains("holds no mixplane store"), "{stderr}");
    assert!(!text(&verify.stdout).contains("intact"));
    assert!(!typo.exists(), "nothing is created for a reading command");

    for args in [
        &["audit", "export"][..],
        &["trace", "reconcile"],
        &["trace", "backward", "LOT-1"],
        &["token", "revoke", "--name", "ann"],
    ] {
        let out = mixplane(&typo, args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("holds no mixplane store"),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!typo.exists(), "{args:?} created the directory");
    }

    // A store file that is no database: the trail cannot be read, exit 2.
    let broken = TempDir::new("not-a-db");
    std::fs::write(broken.0.join("mixplane.db"), b"this is not SQLite").unwrap();
    let verify = mixplane(&broken.0, &["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(2), "{}", text(&verify.stderr));
}

/// `token create` refuses a name that exists (it used to rebind it silently); `token issue`
/// prints another token, `token update` changes the role, and the last administrator with
/// scope `*` can be neither demoted nor revoked; bad names are refused by name.
#[test]
fn token_commands_never_rebind_a_name_and_keep_the_last_global_admin() {
    let dir = TempDir::new("principals");
    let run = |args: &[&str]| mixplane(&dir.0, args);
    let ok = |out: Output| {
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let failed = |out: Output| {
        assert!(!out.status.success(), "{}", text(&out.stdout));
        text(&out.stderr)
    };
    ok(run(&[
        "token", "create", "--name", "root", "--role", "admin",
    ]));
    ok(run(&[
        "token",
        "create",
        "--name",
        "ann",
        "--role",
        "planner",
        "--scope",
        "area:A-PACK",
    ]));
    let stderr = failed(run(&[
        "token", "create", "--name", "ann", "--role", "admin", "--scope", "*",
    ]));
    assert!(stderr.contains("exists already"), "{stderr}");
    let stderr = failed(run(&[
        "token", "create", "--name", "a:b", "--role", "viewer",
    ]));
    assert!(stderr.contains("`:`"), "{stderr}");

    let token = ok(run(&["token", "issue", "--name", "ann"]));
    assert!(token.trim().starts_with("mxp_"), "{token}");
    let changed = ok(run(&[
        "token", "update", "--name", "ann", "--role", "viewer",
    ]));
    assert!(changed.contains("planner → viewer"), "{changed}");
    let stderr = failed(run(&[
        "token", "update", "--name", "root", "--role", "viewer",
    ]));
    assert!(stderr.contains("last administrator"), "{stderr}");
    let stderr = failed(run(&["token", "revoke", "--name", "root"]));
    assert!(stderr.contains("last administrator"), "{stderr}");
    let revoked = ok(run(&["token", "revoke", "--name", "ann"]));
    assert!(revoked.contains("revoked 2 token(s)"), "{revoked}");
    let stderr = failed(run(&["token", "issue", "--name", "nobody"]));
    assert!(
        stderr.contains("no principal is named `nobody`"),
        "{stderr}"
    );

    let out = dir.0.join("audit.jsonl");
    ok(run(&["audit", "export", "--out", out.to_str().unwrap()]));
    let actions: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["action"].to_string())
        .collect();
    assert_eq!(
        actions,
        [
            "\"principal.create\"",
            "\"principal.create\"",
            "\"token.create\"",
            "\"principal.update\"",
            "\"token.revoke\""
        ]
    );
}
