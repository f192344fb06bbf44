import Foundation
import Logging
import OTPAPI
import OTPCore
import OTPPostgres
import OTPProviders
import PostgresNIO

/// The operator's configuration, from the environment (the names are part of the contract).
package struct Settings {
    package var environment: [String: String]

    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    package func value(_ name: String) -> String? {
        guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    package func required(_ name: String) throws -> String {
        guard let value = value(name) else { throw SettingsError.missing(name) }
        return value
    }

    /// `DATABASE_URL`, pooled as `pooled` says.
    package func databaseConfiguration(servesForLong: Bool = false) throws -> PostgresClient.Configuration {
        Self.pooled(try databaseURL().clientConfiguration, servesForLong: servesForLong)
    }

    package func databaseURL() throws -> PostgresURL { try PostgresURL(try required("DATABASE_URL")) }

    /// `DATABASE_READ_URL`, when set: a replica the management routes read from, pooled as the
    /// primary is.
    package func readReplicaConfiguration() throws -> PostgresClient.Configuration? {
        guard let text = value("DATABASE_READ_URL") else { return nil }
        do {
            return Self.pooled(try PostgresURL(text).clientConfiguration, servesForLong: true)
        } catch {
            throw SettingsError.invalid("DATABASE_READ_URL", "\(error)")
        }
    }

    /// Where `otp migrate` connects, as the schema's owner: `OTP_MIGRATE_DATABASE_URL`, else
    /// `DATABASE_URL`.
    package func migrationURL() throws -> PostgresURL {
        try value("OTP_MIGRATE_DATABASE_URL").map { try PostgresURL($0) } ?? databaseURL()
    }

    /// Where apps' webhooks may go: anywhere public, and the operator's `OTP_WEBHOOK_ALLOWED_NETWORKS`.
    package func webhookDestinations() throws -> OutboundDestinations {
        do {
            let rules = try OutboundGuard(allowedNetworks: value("OTP_WEBHOOK_ALLOWED_NETWORKS") ?? "")
            return OutboundDestinations(rules: rules, resolver: SystemHostResolver())
        } catch {
            throw SettingsError.invalid("OTP_WEBHOOK_ALLOWED_NETWORKS", error.description)
        }
    }

    /// What messages cost the operator: `OTP_RATE_CARD` (`sms:BR=0.0225 sms:*=0.05 ...`) in
    /// `OTP_RATE_CARD_CURRENCY` (default USD). Empty: no prices but the providers' own.
    package func rateCard() throws -> RateCard {
        do {
            return try RateCard(value("OTP_RATE_CARD") ?? "", currency: value("OTP_RATE_CARD_CURRENCY") ?? "USD")
        } catch {
            throw SettingsError.invalid("OTP_RATE_CARD", error.description)
        }
    }

    /// `OTP_RETENTION_DAYS`, default 90.
    package func retentionDays() throws -> Int {
        guard let text = value("OTP_RETENTION_DAYS") else { return 90 }
        guard let days = Int(text), days >= 1 else {
            throw SettingsError.invalid("OTP_RETENTION_DAYS", "expected a number of days, at least 1")
        }
        return days
    }

    /// `OTP_DATABASE_CONNECT_TIMEOUT`: how long a one-shot command waits for PostgreSQL before it
    /// gives up (seconds, default 10).
    package func connectTimeout() throws -> Duration {
        guard let text = value("OTP_DATABASE_CONNECT_TIMEOUT") else { return .seconds(10) }
        guard let seconds = Int(text), (1...3600).contains(seconds) else {
            throw SettingsError.invalid("OTP_DATABASE_CONNECT_TIMEOUT", "expected seconds, 1 to 3600")
        }
        return .seconds(seconds)
    }

    /// A pool of up to 16 connections: enough for group commit to pay off, few enough that many API
    /// and worker processes fit in PostgreSQL's connection limit.
    ///
    /// The minimum is 0 on purpose. PostgresNIO 1.33.2 traps (a precondition in
    /// `createNewDemandConnectionIfPossible`) when a lease finds fewer live connections than the
    /// minimum while new ones fail: exactly what a proxy with no healthy backend or a failover
    /// does. With no minimum that state cannot arise; connections are opened on demand and closed
    /// after `connectionIdleTimeout` unused.
    ///
    /// PostgresNIO starts a timer each time it takes a connection back (a keep-alive ping, and an
    /// idle timeout for connections above the minimum). On Linux a cancelled timer keeps its memory
    /// until its deadline, so at thousands of queries a second a long deadline holds hundreds of
    /// megabytes: no keep-alive pings, and a short idle timeout for long-running processes.
    package static func pooled(_ base: PostgresClient.Configuration, servesForLong: Bool)
        -> PostgresClient.Configuration
    {
        var configuration = base
        configuration.options.maximumConnections = 16
        configuration.options.minimumConnections = 0
        if servesForLong { configuration.options.connectionIdleTimeout = .seconds(5) }
        configuration.options.keepAliveBehavior = nil
        return configuration
    }

    /// `OTP_SECRET_KEYS` (the ring, newest first), or `OTP_SECRET_KEY` as a ring of one.
    package func serverKeys() throws -> ServerKeys {
        switch (value("OTP_SECRET_KEYS"), value("OTP_SECRET_KEY")) {
        case (let ring?, nil): return try ServerKeys(ring: ring)
        case (nil, let key?): return try ServerKeys(base64: key)
        case (.some, .some):
            throw SettingsError.invalid("OTP_SECRET_KEY", "set OTP_SECRET_KEYS or OTP_SECRET_KEY, not both")
        case (nil, nil): throw SettingsError.missing("OTP_SECRET_KEYS or OTP_SECRET_KEY")
        }
    }

    /// `OTP_HTTP_ADDRESS` as host and port; default 127.0.0.1:8080.
    package func httpAddress() throws -> (host: String, port: Int) {
        try Self.address(value("OTP_HTTP_ADDRESS") ?? "127.0.0.1:8080", name: "OTP_HTTP_ADDRESS")
    }

    /// The API's listener: `OTP_HTTP_ADDRESS`, `OTP_HTTP_IDLE_TIMEOUT` (seconds, default 30: a
    /// connection with no request under way, or whose request head has not all arrived, is closed
    /// after it) and `OTP_METRICS_ADDRESS` (`/metrics` on a listener of its own).
    package func httpListener() throws -> HTTPListenerSettings {
        let (host, port) = try httpAddress()
        var idle = Duration.seconds(30)
        if let text = value("OTP_HTTP_IDLE_TIMEOUT") {
            guard let seconds = Int(text), (1...3600).contains(seconds) else {
                throw SettingsError.invalid("OTP_HTTP_IDLE_TIMEOUT", "expected seconds, 1 to 3600")
            }
            idle = .seconds(seconds)
        }
        return HTTPListenerSettings(host: host, port: port, idleTimeout: idle, metricsAddress: try metricsAddress())
    }

    /// `OTP_METRICS_ADDRESS`: `/metrics` on a listener of its own (`serve` and `work`).
    package func metricsAddress() throws -> (host: String, port: Int)? {
        try value("OTP_METRICS_ADDRESS").map { try Self.address($0, name: "OTP_METRICS_ADDRESS") }
    }

    static func address(_ text: String, name: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw SettingsError.invalid(name, "expected host:port") }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// Whether traces are exported: when an OTLP endpoint is given (`OTEL_EXPORTER_OTLP_ENDPOINT` or
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), unless `OTEL_SDK_DISABLED=true` or
    /// `OTEL_TRACES_EXPORTER=none`. Off by default: no tracer, no span, no exporter.
    package func tracesExported() -> Bool {
        guard value("OTEL_EXPORTER_OTLP_ENDPOINT") != nil || value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != nil
        else { return false }
        return value("OTEL_SDK_DISABLED")?.lowercased() != "true" && value("OTEL_TRACES_EXPORTER") != "none"
    }

    package func logLevel() throws -> Logger.Level {
        guard let text = value("OTP_LOG_LEVEL") else { return .info }
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw SettingsError.invalid(
                "OTP_LOG_LEVEL", "expected trace, debug, info, notice, warning, error or critical")
        }
        return level
    }

    /// What the receipt routes check signatures with: Twilio's auth token and the public status
    /// callback URL; Meta's app secret and webhook verify token.
    package func receiptSettings() -> ReceiptSettings {
        ReceiptSettings(
            twilioAuthToken: value("TWILIO_AUTH_TOKEN"), twilioCallbackURL: value("TWILIO_STATUS_CALLBACK_URL"),
            metaAppSecret: value("WHATSAPP_APP_SECRET"), metaVerifyToken: value("WHATSAPP_VERIFY_TOKEN"),
            kannelReceiptSecret: value("KANNEL_DLR_SECRET"))
    }

    /// The ordered provider names of a channel (`OTP_SMS_PROVIDERS`, `OTP_WHATSAPP_PROVIDERS`,
    /// `OTP_VOICE_PROVIDERS`).
    package func providerNames(for channel: MessageChannel) -> [String] {
        let name =
            switch channel {
            case .sms: "OTP_SMS_PROVIDERS"
            case .whatsapp: "OTP_WHATSAPP_PROVIDERS"
            case .voice: "OTP_VOICE_PROVIDERS"
            }
        return (value(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }
}

package enum SettingsError: Error, CustomStringConvertible {
    case missing(String)
    case invalid(String, String)

    package var description: String {
        switch self {
        case .missing(let name): "\(name) is not set"
        case .invalid(let name, let reason): "\(name) is invalid: \(reason)"
        }
    }
}

/// Where and how the API listens.
package struct HTTPListenerSettings: Sendable {
    package var host: String
    package var port: Int
    package var idleTimeout: Duration
    /// `/metrics` on a listener of its own, when set; the API's listener then answers it with 404.
    package var metricsAddress: (host: String, port: Int)?

    package init(
        host: String, port: Int, idleTimeout: Duration = .seconds(30), metricsAddress: (host: String, port: Int)? = nil
    ) {
        self.host = host
        self.port = port
        self.idleTimeout = idleTimeout
        self.metricsAddress = metricsAddress
    }
}
