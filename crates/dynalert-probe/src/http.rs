//! Blocking HTTP over `ureq`: one client with a timeout, and the few request shapes the tools
//! send (GET as text, JSON or status; POST with an empty body or a text body; a JSON body).

use std::io::Read as _;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

/// The timeout of [`Client::default`]: enough for a small page on a loaded machine.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP client with one timeout for every request.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
}

impl Default for Client {
    fn default() -> Client {
        Client::new(DEFAULT_TIMEOUT)
    }
}

impl Client {
    pub fn new(timeout: Duration) -> Client {
        Client {
            agent: ureq::AgentBuilder::new().timeout(timeout).build(),
        }
    }

    pub(crate) fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// GET `url` as text, of any size; a 4xx/5xx status or a body that is not UTF-8 is an error.
    pub fn get_text(&self, url: &str) -> anyhow::Result<String> {
        String::from_utf8(self.get_bytes(url)?)
            .with_context(|| format!("GET `{url}`: the body is not UTF-8"))
    }

    /// GET `url` as bytes, of any size; a 4xx/5xx status is an error.
    pub fn get_bytes(&self, url: &str) -> anyhow::Result<Vec<u8>> {
        let what = || format!("GET `{url}`");
        let mut body = Vec::new();
        let mut reader = self.agent.get(url).call().with_context(what)?.into_reader();
        reader.read_to_end(&mut body).with_context(what)?;
        Ok(body)
    }

    /// GET `url` as JSON; a 4xx/5xx status is an error.
    pub fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> anyhow::Result<T> {
        serde_json::from_str(&self.get_text(url)?)
            .with_context(|| format!("GET `{url}`: unexpected answer"))
    }

    /// GET returning the status code only (any status, no error for 4xx/5xx).
    pub fn get_status(&self, url: &str) -> anyhow::Result<u16> {
        match self.agent.get(url).call() {
            Ok(r) => Ok(r.status()),
            Err(ureq::Error::Status(code, _)) => Ok(code),
            Err(e) => Err(e).with_context(|| format!("GET `{url}`")),
        }
    }

    /// POST with an empty body; returns the status and the body (4xx/5xx are not errors).
    pub fn post_empty(&self, url: &str) -> anyhow::Result<(u16, String)> {
        match self.agent.post(url).send_string("") {
            Ok(r) => Ok((r.status(), r.into_string().unwrap_or_default())),
            Err(ureq::Error::Status(code, r)) => Ok((code, r.into_string().unwrap_or_default())),
            Err(e) => Err(e).with_context(|| format!("POST `{url}`")),
        }
    }

    /// POST with a text body (e.g. samples to VictoriaMetrics' import API); a 4xx/5xx status
    /// is an error.
    pub fn post_text(&self, url: &str, body: &str) -> anyhow::Result<()> {
        self.agent
            .post(url)
            .send_string(body)
            .with_context(|| format!("POST `{url}`"))?;
        Ok(())
    }

    /// `method` with a JSON body; a 4xx/5xx status is an error.
    pub fn send_json(&self, method: &str, url: &str, body: &impl Serialize) -> anyhow::Result<()> {
        self.agent
            .request(method, url)
            .send_json(serde_json::to_value(body)?)
            .with_context(|| format!("{method} `{url}`"))?;
        Ok(())
    }
}

/// [`Client::get_text`] with the default timeout.
pub fn get_text(url: &str) -> anyhow::Result<String> {
    Client::default().get_text(url)
}

/// [`Client::get_json`] with the default timeout.
pub fn get_json(url: &str) -> anyhow::Result<serde_json::Value> {
    Client::default().get_json(url)
}

/// [`Client::get_status`] with the default timeout.
pub fn get_status(url: &str) -> anyhow::Result<u16> {
    Client::default().get_status(url)
}

/// [`Client::post_empty`] with the default timeout.
pub fn post_empty(url: &str) -> anyhow::Result<(u16, String)> {
    Client::default().post_empty(url)
}

/// [`Client::post_text`] with the default timeout.
pub fn post_text(url: &str, body: &str) -> anyhow::Result<()> {
    Client::default().post_text(url, body)
}

/// [`Client::send_json`] with the default timeout.
pub fn send_json(method: &str, url: &str, body: &impl Serialize) -> anyhow::Result<()> {
    Client::default().send_json(method, url, body)
}

/// Whether GET `url` answers 200 now (a readiness probe: `/-/ready`, `/health`).
pub fn is_ready(url: &str) -> bool {
    get_status(url).ok() == Some(200)
}
