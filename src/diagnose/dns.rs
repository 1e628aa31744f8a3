//! The dns stage: hickory-resolver with the system configuration and /etc/hosts.

use hickory_resolver::Resolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::op::{Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RecordType};
use std::net::IpAddr;
use std::str::FromStr;

use super::Stage;
use super::engine::Run;
use super::plan::Host;
use crate::explain::Problem;

pub async fn run(run: &mut Run) -> Result<Vec<IpAddr>, Problem> {
    // Through a proxy, the proxy's name is resolved here and the broker's by the proxy.
    let host = match super::proxy::dns_note(run).await {
        Some(h) => h,
        None => run.plan.target.host.clone(),
    };
    let name = match &host {
        Host::Ip(ip) => {
            let ip = *ip;
            run.fact(Stage::Dns, "lookup", "skipped: the URL holds an IP address")
                .await;
            run.fact(Stage::Dns, "addresses", vec![ip.to_string()])
                .await;
            return Ok(vec![ip]);
        }
        Host::Name(n) => n.clone(),
    };
    if let Some(unicode) = super::plan::unicode_host(&name) {
        run.fact(Stage::Dns, "idna", format!("{unicode} = {name}"))
            .await;
    }
    if let Err(reason) = check_host_name(&name) {
        return Err(Problem::DnsInvalidHost { host: name, reason });
    }
    let fail = |resolver_error: String| Problem::DnsFailed {
        host: name.clone(),
        resolver_error,
    };
    let (config, mut options) = match run.plan.dns_server {
        Some(server) => {
            let mut ns = NameServerConfig::udp(server.ip());
            for c in &mut ns.connections {
                c.port = server.port();
            }
            (
                ResolverConfig::from_name_servers(vec![ns]),
                ResolverOpts::default(),
            )
        }
        None => hickory_resolver::system_conf::read_system_conf().map_err(|e| {
            fail(format!(
                "the system DNS configuration could not be read: {e}"
            ))
        })?,
    };
    options.timeout = run.timeout();
    let from_hosts = run.plan.dns_server.is_none() && in_hosts_file(&name);
    if run.plan.dns_server.is_some() {
        options.use_hosts_file = hickory_resolver::config::ResolveHosts::Never;
    }
    let mut builder =
        Resolver::builder_with_config(config.clone(), TokioRuntimeProvider::default());
    *builder.options_mut() = options;
    let resolver = builder
        .build()
        .map_err(|e| fail(format!("the resolver could not start: {e}")))?;
    let servers: Vec<String> = config
        .name_servers()
        .iter()
        .map(|ns| ns.ip.to_string())
        .collect();
    run.fact(
        Stage::Dns,
        "resolver",
        if from_hosts {
            "/etc/hosts".to_string()
        } else if servers.is_empty() {
            "system resolver (no name servers configured)".to_string()
        } else {
            match run.plan.dns_server {
                Some(s) => format!("{s} (--dns-server)"),
                None => format!("system resolver via {}", dedup(servers).join(", ")),
            }
        },
    )
    .await;
    let lookup = tokio::time::timeout(run.timeout(), resolver.lookup_ip(name.as_str())).await;
    let secs = run.timeout().as_secs().max(1);
    match lookup {
        Err(_) => Err(Problem::DnsTimeout { host: name, secs }),
        Ok(Ok(found)) => {
            let addrs: Vec<IpAddr> = found.iter().collect();
            if addrs.is_empty() {
                return Err(Problem::DnsNoRecords { host: name });
            }
            run.fact(
                Stage::Dns,
                "addresses",
                addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            )
            .await;
            Ok(addrs)
        }
        Ok(Err(e)) => Err(classify(&name, &e, secs)),
    }
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|s| seen.insert(s.clone()));
    v
}

fn classify(host: &str, e: &NetError, secs: u64) -> Problem {
    let host = host.to_string();
    if e.is_nx_domain() {
        return Problem::DnsNxDomain { host };
    }
    match e {
        NetError::Dns(DnsError::NoRecordsFound(NoRecords { response_code, .. }))
            if *response_code == ResponseCode::NXDomain =>
        {
            Problem::DnsNxDomain { host }
        }
        NetError::Dns(DnsError::NoRecordsFound(_)) => Problem::DnsNoRecords { host },
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => {
            Problem::DnsServFail { host }
        }
        NetError::Timeout => Problem::DnsTimeout { host, secs },
        other => Problem::DnsFailed {
            host,
            resolver_error: other.to_string(),
        },
    }
}

fn in_hosts_file(name: &str) -> bool {
    let Ok(hosts) = hickory_resolver::Hosts::from_system() else {
        return false;
    };
    let Ok(fqdn) = Name::from_str(&format!("{}.", name.trim_end_matches('.'))) else {
        return false;
    };
    [RecordType::A, RecordType::AAAA].into_iter().any(|t| {
        hosts
            .lookup_static_host(&Query::query(fqdn.clone(), t))
            .is_some()
    })
}

/// Rejects what no resolver could look up, with the reason.
pub fn check_host_name(name: &str) -> Result<(), String> {
    let trimmed = name.trim_end_matches('.');
    if trimmed.is_empty() {
        return Err("it is empty".into());
    }
    if trimmed.len() > 253 {
        return Err(format!(
            "it is {} characters long; the limit is 253",
            trimmed.len()
        ));
    }
    for label in trimmed.split('.') {
        if label.is_empty() {
            return Err("it has an empty label (two dots in a row)".into());
        }
        if label.len() > 63 {
            return Err(format!("the label {label:?} is longer than 63 characters"));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!("it contains the character {c:?}"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("the label {label:?} starts or ends with a hyphen"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_name_rules() {
        assert!(check_host_name("broker.example.com").is_ok());
        assert!(check_host_name("localhost").is_ok());
        assert!(check_host_name("a..b").unwrap_err().contains("empty label"));
        assert!(check_host_name("bad host").unwrap_err().contains("' '"));
        assert!(check_host_name("-x.com").unwrap_err().contains("hyphen"));
        assert!(check_host_name(&"a".repeat(64)).unwrap_err().contains("63"));
    }
}
