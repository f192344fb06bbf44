// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// What the composition root and the executable both run on.
let serviceDependencies: [Target.Dependency] = [
    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    .product(name: "UnixSignals", package: "swift-service-lifecycle"),
    .product(name: "AsyncHTTPClient", package: "async-http-client"),
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "PostgresNIO", package: "postgres-nio"),
    .product(name: "Logging", package: "swift-log"),
    .product(name: "Prometheus", package: "swift-prometheus"),
    .product(name: "OTel", package: "swift-otel"),
    .product(name: "Tracing", package: "swift-distributed-tracing"),
]

// The dashboard's pages, stylesheet and script, compiled into the binary.
let dashboardResources = [
    "header.mustache", "footer.mustache", "problem.mustache", "login.mustache", "overview.mustache", "apps.mustache",
    "app.mustache", "webhook_secret.mustache", "keys.mustache", "key_created.mustache", "templates.mustache",
    "template.mustache",
    "template_form.mustache", "filters.mustache", "verifications.mustache", "verification.mustache", "logs.mustache",
    "reports.mustache", "fraud.mustache", "dashboard.css", "dashboard.js", "favicon.svg",
]

// Test targets import what they use without listing every module that defines a member.
let testSwiftSettings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "otp",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "otp", targets: ["otp"]),
        // A Swift client of the HTTP API, generated from the served OpenAPI document.
        .library(name: "OTPClient", targets: ["OTPClient"]),
    ],
    dependencies: [
        .package(
            url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // Traces: the instrumentation API the stack already speaks, and its OTLP exporter over HTTP
        // only (the default traits add gRPC, minutes of every clean build).
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        // The client library: generated at build time by the plugin (never part of the server).
        .package(url: "https://github.com/apple/swift-openapi-generator.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client.git", from: "1.5.0"),
        // Tests only: reads the OpenAPI document to compare it with the router.
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        .target(
            name: "OTPClient",
            dependencies: [
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // docs/client.md's example, built with everything else so that it keeps compiling.
        .executableTarget(
            name: "SendAndVerifyExample",
            dependencies: ["OTPClient"],
            path: "docs/examples/send-and-verify"
        ),
        .target(
            name: "OTPCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Google's libphonenumber (Debian: libphonenumber-dev) behind a C API.
        .target(
            name: "CPhoneNumber",
            linkerSettings: [.linkedLibrary("phonenumber")]
        ),
        .target(
            name: "OTPPhoneNumbers",
            dependencies: ["OTPCore", "CPhoneNumber"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OTPTemplates",
            dependencies: ["OTPCore", .product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OTPPostgres",
            dependencies: [
                "OTPCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OTPProviders",
            dependencies: [
                "OTPCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OTPWorker",
            dependencies: [
                "OTPCore",
                "OTPTemplates",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the API and the dashboard share over HTTP: the request context, the client's address
        // behind trusted proxies, the request deadline.
        .target(
            name: "OTPHTTP",
            dependencies: [
                "OTPCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OTPAPI",
            dependencies: [
                "OTPCore",
                "OTPHTTP",
                "OTPTemplates",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        // The web dashboard: server-side pages over the same core services as the API.
        .target(
            name: "OTPDashboard",
            dependencies: [
                "OTPCore",
                "OTPHTTP",
                "OTPTemplates",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: dashboardResources.map { .embedInCode("Resources/" + $0) },
            swiftSettings: swiftSettings
        ),
        // The composition root: settings, providers and the wiring every command and test shares.
        .target(
            name: "OTPServices",
            dependencies: [
                "OTPCore",
                "OTPPostgres",
                "OTPProviders",
                "OTPWorker",
                "OTPAPI",
                "OTPHTTP",
                "OTPDashboard",
                "OTPPhoneNumbers",
                .product(name: "Hummingbird", package: "hummingbird"),
            ] + serviceDependencies,
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "otp",
            dependencies: [
                "OTPCore",
                "OTPPostgres",
                "OTPProviders",
                "OTPWorker",
                "OTPAPI",
                "OTPHTTP",
                "OTPDashboard",
                "OTPServices",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
            ] + serviceDependencies,
            swiftSettings: swiftSettings
        ),
        // In-memory ports, a clock, a phone-number fixture and the vendor fakes: what tests build on.
        .target(
            name: "OTPTesting",
            dependencies: [
                "OTPCore",
                "OTPAPI",
                "OTPHTTP",
                "OTPProviders",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OTPCoreTests",
            dependencies: [
                "OTPCore", "OTPPhoneNumbers", "OTPTemplates", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: testSwiftSettings
        ),
        // The HTTP logic over in-memory ports: no PostgreSQL, no libphonenumber.
        .testTarget(
            name: "OTPAPITests",
            dependencies: [
                "OTPCore",
                "OTPAPI",
                "OTPHTTP",
                "OTPTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: testSwiftSettings
        ),
        // The dashboard's handlers over in-memory ports.
        .testTarget(
            name: "OTPDashboardTests",
            dependencies: [
                "OTPCore",
                "OTPAPI",
                "OTPHTTP",
                "OTPDashboard",
                "OTPTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "OTPIntegrationTests",
            dependencies: [
                "OTPCore",
                "OTPServices",
                "OTPDashboard",
                "OTPTesting",
                "OTPPostgres",
                "OTPProviders",
                "OTPWorker",
                "OTPAPI",
                "OTPHTTP",
                "OTPPhoneNumbers",
                "OTPClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: testSwiftSettings
        ),
    ]
)
