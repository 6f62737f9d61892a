//! What a newcomer and a client generator rely on: the error codes are
//! documented everywhere they are promised, the docs page talks to no
//! outside service, and logs off a terminal carry no colour codes.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Command, Stdio},
};

use api::problem::CODES;

use crate::helpers::spawn_app;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap()
}

#[test]
fn the_readme_tells_clients_what_to_do_for_every_error_code() {
    let readme = readme();
    for code in CODES {
        assert!(
            readme.contains(&format!("| `{code}` |")),
            "README.md's error-code table lacks {code}"
        );
    }
}

#[test]
fn the_spec_enumerates_every_problem_code_and_marks_public_operations() {
    let spec: serde_json::Value =
        serde_json::from_str(&api::openapi::spec_json().unwrap()).unwrap();
    let listed: Vec<&str> = spec["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(listed, CODES);
    assert_eq!(
        spec["paths"]["/v1/auth/login"]["post"]["security"],
        serde_json::json!([])
    );
    assert_eq!(
        spec["paths"]["/v1/me"]["get"]["security"],
        serde_json::json!([{"bearer": []}])
    );
    assert!(spec["servers"].as_array().is_some_and(|s| !s.is_empty()));
}

#[tokio::test]
async fn the_docs_page_sends_the_spec_to_no_outside_validator() {
    let app = spawn_app().await;
    let init = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains(r#""validatorUrl": "none""#), "{init}");
}

#[test]
fn logs_written_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_authgate"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AUTHGATE_DATA_DIR", dir.path())
        .env("AUTHGATE_LISTEN", "127.0.0.1:0")
        .env("AUTHGATE_ARGON2_MEMORY_KIB", "64")
        .env("AUTHGATE_ARGON2_ITERATIONS", "1")
        .env("AUTHGATE_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let listening = BufReader::new(server.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap)
        .find(|l| l.contains("listening on"))
        .expect("the server starts");
    let port: u16 = listening.rsplit(':').next().unwrap().parse().unwrap();
    // One request, so a request line is logged at info.
    let _ = std::net::TcpStream::connect(("127.0.0.1", port)).map(|mut s| {
        use std::io::Write;
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let _ = s.read_to_end(&mut Vec::new());
    });
    server.kill().unwrap();
    let mut stderr = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    server.wait().unwrap();
    assert!(!stderr.is_empty(), "the server logged something");
    assert!(!stderr.contains('\u{1b}'), "ANSI escapes in: {stderr}");
}
