import Hummingbird
import HummingbirdAuth
import Logging
import NIOCore
import OTPCore
import OTPHTTP
import ServiceLifecycle

/// What the HTTP API needs from the rest of the service.
package struct APIDependencies: Sendable {
    package var directory: any AccessDirectory
    package var service: VerificationService
    package var apiSecrets: APIKeySecrets
    package var management: any ManagementStore
    package var templates: any TemplateStore
    package var receipts: any DeliveryReceiptStore
    package var receiptSettings: ReceiptSettings
    package var trustedProxies: TrustedProxies = .none
    /// How long a request may wait on the database in all (its store calls share it); past it, 503.
    package var requestDeadline: Duration = .seconds(5)
    /// The deadline's timer (`Deadline.sleep`).
    package var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    /// What must run beside the API for its stores to answer (the group-commit flushers).
    package var backgroundServices: [any Service] = []
    package var isReady: @Sendable () async -> Bool
    package var metricsText: (@Sendable () -> String)?
    /// When `/metrics` has a listener of its own (`OTP_METRICS_ADDRESS`), this one does not serve it.
    package var metricsOnOwnListener = false

    package init(
        directory: any AccessDirectory, service: VerificationService, apiSecrets: APIKeySecrets,
        management: any ManagementStore, templates: any TemplateStore, receipts: any DeliveryReceiptStore,
        receiptSettings: ReceiptSettings,
        isReady: @escaping @Sendable () async -> Bool, metricsText: (@Sendable () -> String)?
    ) {
        self.directory = directory
        self.service = service
        self.apiSecrets = apiSecrets
        self.management = management
        self.templates = templates
        self.receipts = receipts
        self.receiptSettings = receiptSettings
        self.isReady = isReady
        self.metricsText = metricsText
    }
}

/// The same router serves production and the tests. `addingRoutes` puts more under it (the
/// dashboard), behind the same middleware but outside the API's contract and route table.
package func buildRouter(
    _ dependencies: APIDependencies, addingRoutes: (Router<OTPRequestContext>) -> Void = { _ in }
) -> Router<OTPRequestContext> {
    let routes = routeTable(dependencies)
    let router = Router(context: OTPRequestContext.self)
    router.add(middleware: RequestTracingMiddleware())
    router.add(middleware: RequestMetricsMiddleware(routes: routes))
    router.add(middleware: ErrorMiddleware(routes: routes))
    router.add(middleware: InputTextMiddleware())
    router.add(middleware: RequestDeadlineMiddleware(limit: dependencies.requestDeadline, sleep: dependencies.sleep))
    router.add(middleware: ClientAddressMiddleware(trustedProxies: dependencies.trustedProxies))
    addEndpoints(to: router, dependencies)
    addingRoutes(router)
    return router
}

/// The routes `buildRouter` serves, read off a router that has them and nothing else.
package func routeTable(_ dependencies: APIDependencies) -> RouteTable {
    let bare = Router(context: OTPRequestContext.self)
    addEndpoints(to: bare, dependencies)
    return RouteTable(bare.routes)
}

private func addEndpoints(to router: Router<OTPRequestContext>, _ dependencies: APIDependencies) {
    OperationsController(
        isReady: dependencies.isReady, metricsText: dependencies.metricsText,
        servesMetrics: !dependencies.metricsOnOwnListener
    ).addRoutes(to: router)
    ReceiptController(settings: dependencies.receiptSettings, receipts: dependencies.receipts).addRoutes(to: router)
    let otp = router.group("otp")
        .add(middleware: APIKeyAuthenticator(directory: dependencies.directory, secrets: dependencies.apiSecrets))
        .add(middleware: IsAuthenticatedMiddleware())
    let access = AppAccess(directory: dependencies.directory)
    VerificationController(service: dependencies.service, access: access).addRoutes(to: otp)
    ManagementController(store: dependencies.management, access: access, numbers: dependencies.service.numbers)
        .addRoutes(to: otp)
    TemplateController(store: dependencies.templates, access: access).addRoutes(to: otp)
}

/// The HTTP application: the router behind a listener on `address`. A connection with no request
/// under way for `idleTimeout` is closed, one whose request head has not all arrived included: an
/// idle or half-sent connection holds nothing for long.
package func buildApplication(
    _ dependencies: APIDependencies, host: String, port: Int, idleTimeout: Duration = .seconds(30), logger: Logger,
    addingRoutes: (Router<OTPRequestContext>) -> Void = { _ in }
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(dependencies, addingRoutes: addingRoutes),
        server: .http1(configuration: .init(idleTimeout: TimeAmount(idleTimeout))),
        configuration: .init(address: .hostname(host, port: port), serverName: "otp"),
        logger: logger)
}

/// `/metrics` alone, on a listener of its own (`OTP_METRICS_ADDRESS`): Prometheus reaches it on an
/// operator's network while the public listener answers `404`.
package func buildMetricsApplication(
    metricsText: @escaping @Sendable () -> String, host: String, port: Int, logger: Logger
) -> some ApplicationProtocol {
    let router = Router()
    router.get("metrics") { _, _ in OperationsController.metricsResponse(metricsText()) }
    return Application(
        router: router, server: .http1(configuration: .init(idleTimeout: .seconds(30))),
        configuration: .init(address: .hostname(host, port: port), serverName: "otp-metrics"), logger: logger)
}
