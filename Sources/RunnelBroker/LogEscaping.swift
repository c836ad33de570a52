/// Text from a client (client ids, software names) as it may appear in a log line: control,
/// line-separator and format characters (which could end the line, forge another, or drive the
/// operator's terminal) become visible escapes, a backslash is doubled so escapes stay unambiguous,
/// and text longer than `charactersMax` is cut with a note of how much was left out.
func escapedForLog(_ text: String, charactersMax: Int = 256) -> String {
    var out = ""
    var written = 0
    for scalar in text.unicodeScalars {
        if written == charactersMax {
            out += "…(\(text.unicodeScalars.count - written) more)"
            break
        }
        written += 1
        switch scalar {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u{" + String(repeating: "0", count: max(0, 2 - hex.count)) + hex + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}
