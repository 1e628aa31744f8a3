//! MQTT CONNACK and SUBACK codes (3.1.1 return codes and MQTT 5 reason codes) mapped to names
//! and cause ids. 3.1.1 codes share the cause of their MQTT 5 equivalent.

use crate::diagnose::MqttVersion;

/// (v5 code, cause id, name)
const CONNACK_V5: &[(u8, &str, &str)] = &[
    (0x80, "mqtt.unspecified_error", "Unspecified error"),
    (0x81, "mqtt.malformed_packet", "Malformed Packet"),
    (0x82, "mqtt.protocol_error", "Protocol Error"),
    (
        0x83,
        "mqtt.implementation_specific_error",
        "Implementation specific error",
    ),
    (
        0x84,
        "mqtt.unsupported_protocol_version",
        "Unsupported Protocol Version",
    ),
    (
        0x85,
        "mqtt.client_id_not_valid",
        "Client Identifier not valid",
    ),
    (
        0x86,
        "mqtt.bad_username_or_password",
        "Bad User Name or Password",
    ),
    (0x87, "mqtt.not_authorized", "Not authorized"),
    (0x88, "mqtt.server_unavailable", "Server unavailable"),
    (0x89, "mqtt.server_busy", "Server busy"),
    (0x8A, "mqtt.banned", "Banned"),
    (
        0x8C,
        "mqtt.bad_authentication_method",
        "Bad authentication method",
    ),
    (0x90, "mqtt.topic_name_invalid", "Topic Name invalid"),
    (0x95, "mqtt.packet_too_large", "Packet too large"),
    (0x97, "mqtt.quota_exceeded", "Quota exceeded"),
    (
        0x99,
        "mqtt.payload_format_invalid",
        "Payload format invalid",
    ),
    (0x9A, "mqtt.retain_not_supported", "Retain not supported"),
    (0x9B, "mqtt.qos_not_supported", "QoS not supported"),
    (0x9C, "mqtt.use_another_server", "Use another server"),
    (0x9D, "mqtt.server_moved", "Server moved"),
    (
        0x9F,
        "mqtt.connection_rate_exceeded",
        "Connection rate exceeded",
    ),
];

/// (3.1.1 return code, equivalent v5 code, name)
const CONNACK_V311: &[(u8, u8, &str)] = &[
    (1, 0x84, "Connection Refused, unacceptable protocol version"),
    (2, 0x85, "Connection Refused, identifier rejected"),
    (3, 0x88, "Connection Refused, Server unavailable"),
    (4, 0x86, "Connection Refused, bad user name or password"),
    (5, 0x87, "Connection Refused, not authorized"),
];

pub const CONNACK_UNKNOWN: &str = "mqtt.refused_unknown_code";

pub fn connack_cause(version: MqttVersion, code: u8) -> &'static str {
    let v5 = match version {
        MqttVersion::V5 => Some(code),
        MqttVersion::V311 => CONNACK_V311
            .iter()
            .find(|(c, ..)| *c == code)
            .map(|(_, v5, _)| *v5),
    };
    v5.and_then(|v5| CONNACK_V5.iter().find(|(c, ..)| *c == v5))
        .map(|(_, id, _)| *id)
        .unwrap_or(CONNACK_UNKNOWN)
}

pub fn connack_name(version: MqttVersion, code: u8) -> &'static str {
    match version {
        MqttVersion::V5 if code == 0 => "Success",
        MqttVersion::V311 if code == 0 => "Connection Accepted",
        MqttVersion::V5 => CONNACK_V5
            .iter()
            .find(|(c, ..)| *c == code)
            .map(|(.., n)| *n)
            .unwrap_or("unknown reason code"),
        MqttVersion::V311 => CONNACK_V311
            .iter()
            .find(|(c, ..)| *c == code)
            .map(|(.., n)| *n)
            .unwrap_or("unknown return code"),
    }
}

/// (v5 code, cause id, name)
const SUBACK_V5: &[(u8, &str, &str)] = &[
    (0x80, "sub.unspecified_error", "Unspecified error"),
    (
        0x83,
        "sub.implementation_specific_error",
        "Implementation specific error",
    ),
    (0x87, "sub.not_authorized", "Not authorized"),
    (0x8F, "sub.topic_filter_invalid", "Topic Filter invalid"),
    (0x91, "sub.packet_id_in_use", "Packet Identifier in use"),
    (0x97, "sub.quota_exceeded", "Quota exceeded"),
    (
        0x9E,
        "sub.shared_subscriptions_not_supported",
        "Shared Subscriptions not supported",
    ),
    (
        0xA1,
        "sub.subscription_ids_not_supported",
        "Subscription Identifiers not supported",
    ),
    (
        0xA2,
        "sub.wildcards_not_supported",
        "Wildcard Subscriptions not supported",
    ),
];

pub const SUBACK_V311_FAILURE: &str = "sub.refused";
pub const SUBACK_UNKNOWN: &str = "sub.refused_unknown_code";

pub fn suback_cause(version: MqttVersion, code: u8) -> &'static str {
    match version {
        MqttVersion::V311 if code == 0x80 => SUBACK_V311_FAILURE,
        MqttVersion::V311 => SUBACK_UNKNOWN,
        MqttVersion::V5 => SUBACK_V5
            .iter()
            .find(|(c, ..)| *c == code)
            .map(|(_, id, _)| *id)
            .unwrap_or(SUBACK_UNKNOWN),
    }
}

pub fn suback_name(version: MqttVersion, code: u8) -> &'static str {
    match (version, code) {
        (_, 0) => "Granted QoS 0",
        (_, 1) => "Granted QoS 1",
        (_, 2) => "Granted QoS 2",
        (MqttVersion::V311, 0x80) => "Failure",
        (MqttVersion::V311, _) => "unknown return code",
        (MqttVersion::V5, c) => SUBACK_V5
            .iter()
            .find(|(v, ..)| *v == c)
            .map(|(.., n)| *n)
            .unwrap_or("unknown reason code"),
    }
}

/// Every CONNACK refusal cause id (for the catalog completeness test).
#[cfg(test)]
pub fn all_connack_causes() -> impl Iterator<Item = &'static str> {
    CONNACK_V5
        .iter()
        .map(|(_, id, _)| *id)
        .chain([CONNACK_UNKNOWN])
}

#[cfg(test)]
pub fn all_suback_causes() -> impl Iterator<Item = &'static str> {
    SUBACK_V5
        .iter()
        .map(|(_, id, _)| *id)
        .chain([SUBACK_V311_FAILURE, SUBACK_UNKNOWN])
}

/// The wire codes behind a CONNACK or SUBACK cause id, for `explain CAUSE`: the MQTT 5 reason
/// code and name, and the 3.1.1 return code that means the same (if any).
pub fn codes_of(id: &str) -> Option<(u8, &'static str, Option<u8>)> {
    if let Some((code, _, name)) = CONNACK_V5.iter().find(|(_, i, _)| *i == id) {
        let v311 = CONNACK_V311
            .iter()
            .find(|(_, v5, _)| v5 == code)
            .map(|(c, ..)| *c);
        return Some((*code, name, v311));
    }
    SUBACK_V5
        .iter()
        .find(|(_, i, _)| *i == id)
        .map(|(code, _, name)| (*code, *name, None))
}
