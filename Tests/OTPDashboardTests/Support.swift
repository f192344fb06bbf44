import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import NIOCore
import OTPAPI
import OTPCore
import OTPDashboard
import OTPHTTP
import OTPTesting
import Synchronization

/// The production router (API and dashboard) over in-memory ports, with the dashboard's users:
/// an owner and a viewer of the world's account, and an owner of another account with its own app.
struct DashboardWorld: Sendable {
    let world: InMemoryWorld
    let users: InMemoryDashboardUsers
    let otherApp: App

    static let password = "correct horse battery"
    /// The fixture users' hash, at bcrypt's lowest cost: at the service's cost 12 every sign-in of
    /// the suites running at once took a quarter of a second on NIO's two-thread pool, and a sign-in
    /// over a socket waited past its client's 20 s timeout behind them. What the service stores is
    /// `Passwords`' own cost; a fixture only needs a hash that verifies.
    static let passwordHash = Bcrypt.hash(password, cost: 4)

    static let owner = "owner@example.com"
    static let viewer = "viewer@example.com"
    static let stranger = "stranger@example.com"

    init() async throws {
        world = try InMemoryWorld()
        users = InMemoryDashboardUsers(clock: world.clock)
        otherApp = world.directory.createApp(name: "Theirs", accountID: 2)
        let hash = Self.passwordHash
        users.add(
            DashboardUser(id: 1, accountID: 1, account: "one", email: Self.owner, role: .owner), passwordHash: hash)
        users.add(
            DashboardUser(id: 2, accountID: 1, account: "one", email: Self.viewer, role: .viewer), passwordHash: hash)
        users.add(
            DashboardUser(id: 3, accountID: 2, account: "two", email: Self.stranger, role: .owner), passwordHash: hash)
    }

    var administration: InMemoryAccountAdministration {
        InMemoryAccountAdministration(directory: world.directory, log: world.store)
    }

    var dependencies: DashboardDependencies {
        let api = world.dependencies
        return DashboardDependencies(
            users: users, administration: administration, management: api.management, templates: api.templates,
            service: api.service, keys: world.keys,
            webhookDestinations: OutboundDestinations(rules: OutboundGuard(), resolver: NoNames()))
    }

    func test<Result: Sendable>(
        _ framework: TestingSetup = .router, trustedProxies: TrustedProxies = .none,
        _ body: @Sendable (Browser) async throws -> Result
    ) async throws -> Result {
        let dashboard = Dashboard(dependencies)
        var api = world.dependencies
        api.trustedProxies = trustedProxies
        let application = Application(
            router: buildRouter(api, addingRoutes: dashboard.addRoutes),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await application.test(framework) { client in try await body(Browser(client: client)) }
    }
}

/// A client that keeps cookies as a browser does, and reads pages' form tokens.
final class Browser: Sendable {
    let client: any TestClientProtocol
    /// Sent with every request (a proxy's headers, say).
    let extraHeaders: HTTPFields
    private let jar = Mutex([String: String]())

    init(client: any TestClientProtocol, extraHeaders: HTTPFields = [:]) {
        self.client = client
        self.extraHeaders = extraHeaders
    }

    struct Page {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var text: String

        /// The value of the first `name="csrf"` field on the page.
        var csrf: String? {
            guard let range = text.range(of: #"name="csrf" value=""#) else { return nil }
            return String(text[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    var cookies: [String: String] { jar.withLock { $0 } }

    func setCookie(_ name: String, _ value: String) { jar.withLock { $0[name] = value } }

    func get(_ path: String) async throws -> Page {
        try await send(path, method: .get, body: nil)
    }

    /// POSTs a form; `csrf` nil leaves the token out.
    func post(_ path: String, _ fields: [(String, String)], csrf: String?) async throws -> Page {
        var all = fields
        if let csrf { all.append(("csrf", csrf)) }
        let body = all.map { Self.encode($0.0) + "=" + Self.encode($0.1) }.joined(separator: "&")
        return try await send(path, method: .post, body: body)
    }

    /// Signs in with the login page's own token.
    func signIn(_ email: String, password: String = DashboardWorld.password) async throws -> Page {
        let form = try await get("/dashboard/login")
        return try await post("/dashboard/login", [("email", email), ("password", password)], csrf: form.csrf)
    }

    private func send(_ path: String, method: HTTPRequest.Method, body: String?) async throws -> Page {
        var headers = extraHeaders
        let cookieHeader = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        if !cookieHeader.isEmpty { headers[.cookie] = cookieHeader }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let response = try await client.execute(
            uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        for field in response.headers[values: .setCookie] {
            let pair = field.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let (name, value) = (String(pair[0]), String(pair[1]))
            jar.withLock {
                if value.isEmpty || field.contains("Max-Age=0") { $0[name] = nil } else { $0[name] = value }
            }
        }
        return Page(
            status: response.status, headers: response.headers, text: String(buffer: response.body))
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// The dashboard's tests resolve no name: a URL's name is saved as one that resolves to nothing now.
struct NoNames: HostResolver {
    func addresses(of host: String) async -> [IPAddress] { [] }
}
