import OTPCore
import Testing

/// Where an app's webhook may point: nowhere inside the operator's network, however it is spelled.
@Suite struct OutboundGuardTests {
    let rules = OutboundGuard()

    @Test(arguments: [
        "https://hooks.example.com/otp", "https://93.184.216.34/x", "https://[2606:4700:4700::1111]/h",
        "https://8.8.8.8:8443/hook", "https://HOOKS.Example.COM./x", "https://1.1.1.1./x",
    ])
    func publicHTTPSAddressesPass(url: String) {
        #expect(throws: Never.self) { try rules.target(of: url).get() }
    }

    @Test(arguments: [
        // Loopback, every spelling.
        "http://127.0.0.1:9000/hook", "https://127.0.0.1/", "https://127.1/", "https://0x7f.1/", "https://0x7f000001/",
        "https://2130706433/", "https://0177.0.0.1/", "https://017700000001/", "https://127.0.0.1./",
        "https://[::1]/", "https://[0:0:0:0:0:0:0:1]/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/",
        "https://[64:ff9b::7f00:1]/", "https://[2002:7f00:1::]/", "https://[::127.0.0.1]/",
        "https://localhost/", "https://localhost./", "https://LOCALHOST/", "https://api.localhost/",
        // Private, link-local, shared, unspecified, multicast, broadcast, reserved.
        "https://10.0.0.1/", "https://10.1/", "https://169.254.169.254/latest/meta-data/", "https://172.16.0.1/",
        "https://172.31.255.255/", "https://192.168.1.1/", "https://100.64.0.1/", "https://0.0.0.0/", "https://0/",
        "https://[::]/", "https://224.0.0.1/", "https://255.255.255.255/", "https://240.0.0.1/",
        "https://[fc00::1]/", "https://[fd12:3456::1]/", "https://[fe80::1]/", "https://[fe80::1%25eth0]/",
        "https://[ff02::1]/", "https://[::ffff:10.0.0.1]/", "https://[64:ff9b::a9fe:a9fe]/",
        "https://[2002:c0a8:101::1]/", "https://[64:ff9b:1::1]/",
        // Not https, or not a valid host.
        "http://127.attacker.example/", "http://hooks.example.com/otp", "http://93.184.216.34/",
        "https://999.1.1.1/", "https://1.2.3.4.5/", "https://0x1g.1/", "ftp://example.com/x", "https://", "not a url",
        "https://user:pw@example.com/", "https://example.com/#part",
        "https://example.com/" + String(repeating: "a", count: 2000),
    ])
    func internalOrMalformedURLsAreRefused(url: String) {
        #expect(throws: OutboundRefusal.self) { try rules.target(of: url).get() }
    }

    @Test func legacyIPv4SpellingsAreReadAsBrowsersReadThem() throws {
        let allowing = try OutboundGuard(allowedNetworks: "127.0.0.0/8")
        for spelling in ["0x7f.1", "0x7f000001", "2130706433", "0177.0.0.1", "127.0.1", "0x7F.0.0.0x1"] {
            #expect(try allowing.target(of: "https://\(spelling)/").get().literal == IPAddress("127.0.0.1"))
        }
        let target = try OutboundGuard(allowedNetworks: "127.0.0.0/8").target(of: "http://0x7f.1:80/").get()
        #expect(target.literal == IPAddress("127.0.0.1"))
    }

    @Test func theOperatorsNetworksAreExemptAndMayUsePlainHTTP() throws {
        let allowing = try OutboundGuard(allowedNetworks: "127.0.0.0/8, 10.20.0.0/16")
        #expect(throws: Never.self) { try allowing.target(of: "http://127.0.0.1:9000/hook").get() }
        #expect(throws: Never.self) { try allowing.target(of: "https://10.20.1.2/hook").get() }
        #expect(throws: OutboundRefusal.self) { try allowing.target(of: "http://10.21.0.1/hook").get() }
        #expect(throws: OutboundRefusal.self) { try allowing.target(of: "http://[::1]/hook").get() }
        #expect(throws: OutboundRefusal.self) { try OutboundGuard(allowedNetworks: "10.0.0.0/33") }
    }

    struct Resolver: HostResolver {
        func addresses(of host: String) async -> [IPAddress] {
            switch host {
            case "public.example": ["93.184.216.34", "2606:2800:220:1::1"].compactMap(IPAddress.init)
            case "mixed.example": ["93.184.216.34", "10.0.0.7"].compactMap(IPAddress.init)
            case "mapped.example": ["::ffff:169.254.169.254"].compactMap(IPAddress.init)
            default: []
            }
        }
    }

    @Test func everyAddressANameResolvesToIsCheckedAndTheConnectionGoesToACheckedOne() async throws {
        let destinations = OutboundDestinations(rules: rules, resolver: Resolver())
        let checked = try await destinations.check("https://public.example/hook").get()
        #expect(checked.address == IPAddress("93.184.216.34"))
        #expect(checked.target.host == "public.example")
        for url in ["https://mixed.example/hook", "https://mapped.example/hook"] {
            guard case .failure(let refusal) = await destinations.check(url) else {
                Issue.record("\(url) passed")
                continue
            }
            #expect(refusal != OutboundDestinations.unresolved)
        }
        #expect(await destinations.problemAtSave("https://mixed.example/hook") != nil)
        // A name that resolves to nothing now may be saved; the worker checks it at each delivery.
        #expect(await destinations.problemAtSave("https://nowhere.example/hook") == nil)
        #expect(await destinations.check("https://nowhere.example/hook") == .failure(OutboundDestinations.unresolved))
    }
}
