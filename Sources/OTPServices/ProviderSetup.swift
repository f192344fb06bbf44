import AsyncHTTPClient
import NIOCore
import OTPCore
import OTPProviders
import OTPWorker

/// Builds the providers named in `OTP_SMS_PROVIDERS`, `OTP_WHATSAPP_PROVIDERS` and
/// `OTP_VOICE_PROVIDERS` from their vendors' variables, all on one HTTP client.
package struct ProviderSetup {
    package let settings: Settings
    package let httpClient: HTTPClient
    /// The console provider prints every code: only `otp dev` allows it, or an operator who says
    /// so with `OTP_ALLOW_CONSOLE_PROVIDER=1`.
    package var allowsConsole = false

    package init(settings: Settings, httpClient: HTTPClient, allowsConsole: Bool = false) {
        self.settings = settings
        self.httpClient = httpClient
        self.allowsConsole = allowsConsole
    }

    /// One client for every provider: no redirects (a vendor redirect is an error, not a hint), and
    /// bounded connect and read times so a hung vendor costs a timeout, not a worker slot forever.
    package static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(15))
        // The default of 8 connections per vendor would cap a worker at 8 messages in flight per vendor,
        // whatever its --concurrency: with a 200 ms vendor, 40 messages a second.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 512
        // No client spans of its own: they would record the full URL and its query (a vendor's account
        // path, an owner's token); the worker's own spans say what was called and how it went.
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Runs `body` with the providers' HTTP client, shut down afterwards whatever happens.
    package static func withHTTPClient<Result>(_ body: (HTTPClient) async throws -> Result) async throws -> Result {
        let client = makeHTTPClient()
        let result: Result
        do {
            result = try await body(client)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        return result
    }

    package func chains() throws -> ProviderChains {
        var providers: [MessageChannel: [any MessageProvider]] = [:]
        var built: [String: any MessageProvider] = [:]
        for channel in MessageChannel.allCases {
            providers[channel] = try settings.providerNames(for: channel).map { name in
                if name == "kannel" && channel != .sms {
                    throw SettingsError.invalid("provider kannel", "it sends SMS only: list it in OTP_SMS_PROVIDERS")
                }
                if name == "meta" && channel != .whatsapp {
                    throw SettingsError.invalid(
                        "provider meta", "it sends WhatsApp only: list it in OTP_WHATSAPP_PROVIDERS")
                }
                if let provider = built[name] { return provider }
                let provider = try provider(named: name)
                built[name] = provider
                return provider
            }
        }
        guard providers.values.contains(where: { !$0.isEmpty }) else {
            throw SettingsError.missing("OTP_SMS_PROVIDERS, OTP_WHATSAPP_PROVIDERS or OTP_VOICE_PROVIDERS")
        }
        return ProviderChains(providers)
    }

    package func provider(named name: String) throws -> any MessageProvider {
        switch name {
        case "console":
            guard allowsConsole || settings.value("OTP_ALLOW_CONSOLE_PROVIDER") == "1" else {
                throw SettingsError.invalid(
                    "provider console", "it prints codes; it runs under otp dev, or with OTP_ALLOW_CONSOLE_PROVIDER=1")
            }
            return ConsoleProvider()
        case "twilio":
            let from = settings.value("TWILIO_FROM")
            let service = settings.value("TWILIO_MESSAGING_SERVICE_SID")
            let voiceFrom = settings.value("TWILIO_VOICE_FROM")
            if from == nil && service == nil && settings.value("TWILIO_WHATSAPP_FROM") == nil && voiceFrom == nil {
                throw SettingsError.missing(
                    "TWILIO_FROM, TWILIO_MESSAGING_SERVICE_SID, TWILIO_WHATSAPP_FROM or TWILIO_VOICE_FROM")
            }
            return TwilioProvider(
                configuration: .init(
                    accountSID: try settings.required("TWILIO_ACCOUNT_SID"),
                    authToken: try settings.required("TWILIO_AUTH_TOKEN"), from: from, messagingServiceSID: service,
                    whatsAppFrom: settings.value("TWILIO_WHATSAPP_FROM"),
                    baseURL: settings.value("TWILIO_BASE_URL") ?? "https://api.twilio.com",
                    statusCallbackURL: settings.value("TWILIO_STATUS_CALLBACK_URL"),
                    whatsAppContentSID: settings.value("TWILIO_WHATSAPP_CONTENT_SID"), voiceFrom: voiceFrom),
                httpClient: httpClient)
        case "meta":
            return MetaWhatsAppProvider(
                configuration: .init(
                    accessToken: try settings.required("WHATSAPP_ACCESS_TOKEN"),
                    phoneNumberID: try settings.required("WHATSAPP_PHONE_NUMBER_ID"),
                    apiVersion: settings.value("WHATSAPP_API_VERSION") ?? "v21.0",
                    baseURL: settings.value("WHATSAPP_BASE_URL") ?? "https://graph.facebook.com",
                    templateName: settings.value("WHATSAPP_TEMPLATE_NAME") ?? "otp_code",
                    languageCode: settings.value("WHATSAPP_TEMPLATE_LANGUAGE") ?? "en"),
                httpClient: httpClient)
        case "webhook":
            return WebhookProvider(
                configuration: .init(
                    url: try settings.required("OTP_WEBHOOK_URL"), secret: try settings.required("OTP_WEBHOOK_SECRET")),
                httpClient: httpClient)
        case "kannel":
            return KannelProvider(
                configuration: .init(
                    sendsmsURL: try settings.required("KANNEL_SENDSMS_URL"),
                    username: try settings.required("KANNEL_USERNAME"),
                    password: try settings.required("KANNEL_PASSWORD"), smsc: settings.value("KANNEL_SMSC"),
                    receiptURL: settings.value("KANNEL_DLR_URL"), receiptSecret: settings.value("KANNEL_DLR_SECRET")),
                httpClient: httpClient)
        default:
            throw SettingsError.invalid("provider \(name)", "expected twilio, meta, webhook, kannel or console")
        }
    }
}
