//! Local checks of a connection to Azure IoT Hub (`*.azure-devices.net`): the user name shape,
//! the client id, the SAS token's `se=` expiry and the protocol version, before CONNECT.

use super::plan::{MqttVersion, Plan};
use crate::explain::AzureCheck;

/// Every mismatch with what IoT Hub requires; `host` is the hub's host in lower case.
pub fn checks(host: &str, plan: &Plan, now: i64) -> Vec<AzureCheck> {
    let mut found = Vec::new();
    let expected_prefix = format!("{host}/");
    let o = &plan.mqtt;
    match o.username.as_deref() {
        Some(u) if u.to_ascii_lowercase().starts_with(&expected_prefix) => {
            let device = device_of(&u[expected_prefix.len()..]);
            if !device.is_empty() && o.client_id != device {
                found.push(AzureCheck::ClientId {
                    client_id: o.client_id.clone(),
                    device: device.to_string(),
                });
            }
            if !u.contains("api-version=") || device.is_empty() {
                found.push(AzureCheck::UserName {
                    got: Some(u.to_string()),
                    expected_prefix,
                });
            }
        }
        got => found.push(AzureCheck::UserName {
            got: got.map(str::to_string),
            expected_prefix,
        }),
    }
    match o.password.as_ref().map(|p| p.expose().to_string()) {
        Some(token) if token.starts_with("SharedAccessSignature ") => {
            if let Some(expiry) = sas_expiry(&token)
                && expiry < now
            {
                found.push(AzureCheck::SasExpired { expiry, now });
            }
        }
        _ if plan.tls.client.is_some() => {}
        _ => found.push(AzureCheck::NoCredential),
    }
    if o.version == MqttVersion::V5 && !o.fallback_to_311 {
        found.push(AzureCheck::Mqtt5);
    }
    found
}

/// `DEVICE/?api-version=…` → `DEVICE`.
fn device_of(rest: &str) -> &str {
    rest.split('/').next().unwrap_or_default()
}

/// The `se=` field (unix seconds) of `SharedAccessSignature sr=…&sig=…&se=…&skn=…`.
pub fn sas_expiry(token: &str) -> Option<i64> {
    let fields = token.strip_prefix("SharedAccessSignature ")?;
    fields
        .split('&')
        .find_map(|kv| kv.trim().strip_prefix("se="))
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sas_expiry_is_read_from_the_token() {
        assert_eq!(
            sas_expiry(
                "SharedAccessSignature sr=hub.azure-devices.net%2Fdevices%2Fd1&sig=abc%3D&se=1700000000"
            ),
            Some(1_700_000_000)
        );
        assert_eq!(sas_expiry("hunter2"), None);
    }
}
