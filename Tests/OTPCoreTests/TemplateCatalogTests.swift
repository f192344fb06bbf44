import OTPCore
import Testing

@Suite struct TemplateCatalogTests {
    static let knownVariables: Set<String> = ["code", "app_name", "expires_in_minutes", "amount", "payee"]

    /// Texts that need a letter GSM-7 lacks (`ó`, `ã`, `ç`, `ú`, Devanagari), so they are written to fit one
    /// UCS-2 segment; every other text must stay GSM-7, which catches a stray `’` or `á`.
    static let ucs2Texts: Set<String> = [
        "pt-BR/verification", "pt-BR/transaction",
        "pt/verification", "pt/transaction", "pt/phone_change",
        "es/transaction", "es/phone_change",
        "hi/verification", "hi/signup", "hi/login", "hi/password_reset", "hi/transaction", "hi/phone_change",
    ]

    static func render(_ template: String, code: String = "123456", appName: String = "Acme Bank 12") -> String {
        template.replacing("{{code}}", with: code).replacing("{{app_name}}", with: appName)
            .replacing("{{expires_in_minutes}}", with: "10")
    }

    /// The names between `{{` and `}}`, in order; an unclosed tag comes back as `<unclosed>`.
    static func variables(in template: String) -> [String] {
        var names: [String] = []
        var rest = Substring(template)
        while let open = rest.firstRange(of: "{{") {
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                names.append("<unclosed>")
                break
            }
            names.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return names
    }

    static var everyTemplate: [(key: String, locale: String, text: String)] {
        var all: [(key: String, locale: String, text: String)] = []
        for locale in TemplateCatalog.locales {
            for useCase in UseCase.allCases {
                let template = TemplateCatalog.template(for: useCase, locale: locale)
                all.append((key: "\(locale)/\(useCase.rawValue)", locale: template.locale, text: template.text))
            }
        }
        return all
    }

    @Test func everyLocaleHasEveryText() {
        #expect(TemplateCatalog.locales.count == 9)
        for locale in TemplateCatalog.locales {
            for useCase in UseCase.allCases {
                #expect(TemplateCatalog.template(for: useCase, locale: locale).locale == locale)
            }
        }
    }

    @Test func everyTemplateHasTheCodeOnceAndOnlyKnownVariables() {
        #expect(Set(TemplateCatalog.variables) == Self.knownVariables)
        for (key, _, text) in Self.everyTemplate {
            let names = Self.variables(in: text)
            #expect(names.filter { $0 == "code" }.count == 1, "\(key)")
            #expect(Set(names).isSubset(of: Self.knownVariables), "\(key): \(names)")
        }
    }

    @Test func theCodeComesFirst() {
        for (key, _, text) in Self.everyTemplate {
            guard let code = text.firstRange(of: "{{code}}") else {
                Issue.record("\(key) has no code")
                continue
            }
            // At most a short verb before it: `Use`, `Usa`, `Mit`, `Utilize`.
            #expect(text.distance(from: text.startIndex, to: code.lowerBound) <= 8, "\(key)")
        }
    }

    @Test func everyTemplateFitsOneSegment() {
        for (key, _, text) in Self.everyTemplate {
            let rendered = Self.render(text)
            #expect(!rendered.contains("{") && !rendered.contains("}"), "\(key)")
            let measured = SMSCounter.measure(rendered)
            #expect(measured.segments == 1, "\(key): \(measured) for \(rendered)")
            let expected: SMSEncoding = Self.ucs2Texts.contains(key) ? .ucs2 : .gsm7
            #expect(measured.encoding == expected, "\(key): \(rendered)")
            // Codes may be up to 10 digits long.
            #expect(SMSCounter.measure(Self.render(text, code: "1234567890")).segments == 1, "\(key)")
        }
    }

    @Test func gsm7TextsKeepRoomForEveryOptionalLine() throws {
        let extras = TemplateExtras(
            doNotShare: true, smsRetrieverHash: try #require(SMSRetrieverHash("FA+9qCX9VSu")),
            webOTPDomain: try #require(WebOTPDomain("example.com")))
        for locale in TemplateCatalog.locales {
            #expect(SMSCounter.measure(TemplateCatalog.doNotShare(locale: locale)).segments == 1)
            for useCase in UseCase.allCases where !Self.ucs2Texts.contains("\(locale)/\(useCase.rawValue)") {
                let message = Self.render(TemplateCatalog.message(for: useCase, locale: locale, extras: extras).text)
                let measured = SMSCounter.measure(message)
                #expect(
                    measured.encoding == .gsm7 && measured.segments == 1, "\(locale)/\(useCase.rawValue): \(measured)")
            }
        }
    }

    @Test func optionalLinesComeInOrderWithTheWebOTPLineLast() throws {
        let extras = TemplateExtras(
            doNotShare: true, smsRetrieverHash: try #require(SMSRetrieverHash("FA+9qCX9VSu")),
            webOTPDomain: try #require(WebOTPDomain("Example.COM")))
        let message = TemplateCatalog.message(for: .login, locale: "de-AT", extras: extras)
        #expect(message.locale == "de")
        let lines = message.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(
            lines == [
                TemplateCatalog.template(for: .login, locale: "de").text,
                TemplateCatalog.doNotShare(locale: "de"),
                "FA+9qCX9VSu",
                "@example.com #{{code}}",
            ])
        #expect(TemplateCatalog.webOTPLine == "@{{domain}} #{{code}}")

        let plain = TemplateCatalog.message(for: .login, locale: "de", extras: TemplateExtras())
        #expect(plain.text == TemplateCatalog.template(for: .login, locale: "de").text)
        let hashOnly = TemplateExtras(smsRetrieverHash: SMSRetrieverHash("FA+9qCX9VSu"))
        #expect(TemplateCatalog.message(for: .login, locale: "en", extras: hashOnly).text.hasSuffix("\nFA+9qCX9VSu"))
    }

    @Test func extrasRejectWhatWouldBreakTheMessage() {
        #expect(SMSRetrieverHash("FA+9qCX9VSu")?.value == "FA+9qCX9VSu")
        #expect(SMSRetrieverHash("FA+9qCX9VS") == nil)
        #expect(SMSRetrieverHash("FA+9qCX9VSu1") == nil)
        #expect(SMSRetrieverHash("FA+9qCX9V{}") == nil)
        #expect(WebOTPDomain("Example.COM")?.value == "example.com")
        #expect(WebOTPDomain("pay.example-shop.co.uk") != nil)
        for bad in ["", "exa mple.com", "-example.com", "example-.com", "example..com", "example.com.", "{{x}}"] {
            #expect(WebOTPDomain(bad) == nil, "\(bad)")
        }
    }

    @Test func doNotShareFollowsTheSameFallback() {
        #expect(TemplateCatalog.doNotShare(locale: "pt_br") == TemplateCatalog.doNotShare(locale: "pt-BR"))
        #expect(TemplateCatalog.doNotShare(locale: "xx") == TemplateCatalog.doNotShare(locale: "en"))
        #expect(TemplateCatalog.doNotShare(locale: "pt") != TemplateCatalog.doNotShare(locale: "pt-BR"))
    }

    @Test func localeFallsBackExactThenLanguageThenEnglish() {
        let cases: [(requested: String, resolved: String)] = [
            ("pt-BR", "pt-BR"),
            ("pt-PT", "pt"),
            ("es-MX", "es"),
            ("xx", "en"),
            ("PT_br", "pt-BR"),
            ("pt-Latn-BR", "pt-BR"),
            ("es-419", "es"),
            ("EN-gb", "en"),
            ("fr_CA", "fr"),
            ("hi-IN", "hi"),
            ("", "en"),
        ]
        for (requested, resolved) in cases {
            let template = TemplateCatalog.template(for: .verification, locale: requested)
            #expect(template.locale == resolved, "\(requested)")
            #expect(template.text == TemplateCatalog.template(for: .verification, locale: resolved).text)
        }
    }

    @Test func regionsMapToDefaultLocales() {
        let cases: [(region: String, locale: String)] = [
            ("BR", "pt-BR"), ("PT", "pt"), ("pt", "pt"), ("ES", "es"), ("MX", "es"), ("AR", "es"), ("CO", "es"),
            ("CL", "es"), ("PE", "es"), ("FR", "fr"), ("DE", "de"), ("AT", "de"), ("CH", "de"), ("IT", "it"),
            ("ID", "id"), ("IN", "en"), ("BE", "en"), ("US", "en"), ("GB", "en"), ("ZZ", "en"), ("", "en"),
        ]
        for (region, locale) in cases {
            #expect(TemplateCatalog.defaultLocale(forRegion: region) == locale, "\(region)")
            #expect(TemplateCatalog.locales.contains(locale))
        }
    }
}

@Suite struct SMSCounterTests {
    @Test func plainASCIIIsGSM7() {
        #expect(SMSCounter.measure("hello") == SMSSegments(encoding: .gsm7, characters: 5, segments: 1))
        #expect(SMSCounter.measure("") == SMSSegments(encoding: .gsm7, characters: 0, segments: 0))
        #expect(SMSCounter.measure("a\r\nb").characters == 4)
    }

    @Test func gsm7SegmentLimits() {
        let a160 = String(repeating: "a", count: 160)
        #expect(SMSCounter.measure(a160) == SMSSegments(encoding: .gsm7, characters: 160, segments: 1))
        #expect(SMSCounter.measure(a160 + "a") == SMSSegments(encoding: .gsm7, characters: 161, segments: 2))
        #expect(SMSCounter.measure(String(repeating: "a", count: 306)).segments == 2)
        #expect(SMSCounter.measure(String(repeating: "a", count: 307)).segments == 3)
    }

    @Test func extensionCharactersTakeTwoSeptets() {
        #expect(SMSCounter.measure("€") == SMSSegments(encoding: .gsm7, characters: 2, segments: 1))
        #expect(SMSCounter.measure("^{}\\[~]|€\u{0C}").characters == 20)
        #expect(SMSCounter.measure(String(repeating: "a", count: 159) + "€").segments == 2)
        // 306 septets would fill two segments, but the escape sequence cannot be split across them.
        let straddling = String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152)
        #expect(SMSCounter.measure(straddling) == SMSSegments(encoding: .gsm7, characters: 306, segments: 3))
    }

    @Test func accentsOutsideTheBasicSetForceUCS2() {
        #expect(SMSCounter.measure("ção") == SMSSegments(encoding: .ucs2, characters: 3, segments: 1))
        for letter in ["á", "í", "ó", "ú", "â", "ê", "ô", "ã", "õ", "ç", "È", "’"] {
            #expect(SMSCounter.measure("a" + letter).encoding == .ucs2, "\(letter)")
        }
        // `é` is septet 0x05 of the basic set, so 70 of them are plain GSM-7.
        let e70 = String(repeating: "é", count: 70)
        #expect(SMSCounter.measure(e70) == SMSSegments(encoding: .gsm7, characters: 70, segments: 1))
        for letter in ["é", "è", "à", "ù", "ì", "ò", "Ç", "É", "ñ", "Ñ", "ä", "ö", "ü", "ß", "¿", "¡", "£", "¥", "§"] {
            #expect(SMSCounter.measure(letter).encoding == .gsm7, "\(letter)")
        }
        // A decomposed é (e and a combining accent) is not normalised, so it counts as UCS-2.
        #expect(SMSCounter.measure("e\u{0301}").encoding == .ucs2)
    }

    @Test func ucs2SegmentLimits() {
        let devanagari70 = String(repeating: "क", count: 70)
        #expect(SMSCounter.measure(devanagari70) == SMSSegments(encoding: .ucs2, characters: 70, segments: 1))
        #expect(SMSCounter.measure(devanagari70 + "क") == SMSSegments(encoding: .ucs2, characters: 71, segments: 2))
        #expect(SMSCounter.measure(String(repeating: "क", count: 134)).segments == 2)
        #expect(SMSCounter.measure(String(repeating: "क", count: 135)).segments == 3)
    }

    @Test func emojiTakeTwoUTF16Units() {
        #expect(SMSCounter.measure("😀") == SMSSegments(encoding: .ucs2, characters: 2, segments: 1))
        // 134 units would fill two segments, but the surrogate pair cannot be split across them.
        let straddling = String(repeating: "ж", count: 66) + "😀" + String(repeating: "ж", count: 66)
        #expect(SMSCounter.measure(straddling) == SMSSegments(encoding: .ucs2, characters: 134, segments: 3))
    }

    @Test func alphabetTablesHaveTheSpecsSize() {
        var basic = 0
        var extended = 0
        for value in UInt32(0)...0xFFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            switch SMSCounter.gsm7Septets(scalar) {
            case 1?: basic += 1
            case 2?: extended += 1
            default: continue
            }
        }
        // 128 septets less the escape; the extension table's nine characters and form feed.
        #expect(basic == 127)
        #expect(extended == 10)
        #expect(SMSCounter.gsm7Septets("\u{1B}") == nil)
        #expect(SMSCounter.gsm7Septets("\u{0394}") == 1)
        #expect(SMSCounter.gsm7Septets("\u{2206}") == nil)
    }
}
