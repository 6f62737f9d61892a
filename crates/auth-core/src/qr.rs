//! QR codes of an `otpauth://` URI, as SVG markup and as a PNG data URI.

use base64::Engine as _;
use qrcode::{render::svg, EcLevel, QrCode};

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("the text is too long for a QR code")]
    TooLong,
    #[error("the QR image could not be encoded")]
    Encoding,
}

fn code(text: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|_| QrError::TooLong)
}

/// A standalone `<svg>` document, black on white, with the quiet zone.
pub fn svg(text: &str) -> Result<String, QrError> {
    Ok(code(text)?
        .render::<svg::Color>()
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

/// The PNG bytes of the QR code.
pub fn png(text: &str) -> Result<Vec<u8>, QrError> {
    let image = code(text)?
        .render::<image::Luma<u8>>()
        .min_dimensions(240, 240)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|_| QrError::Encoding)?;
    Ok(out.into_inner())
}

/// `data:image/png;base64,…`, ready for an `<img src>`.
pub fn png_data_uri(text: &str) -> Result<String, QrError> {
    let bytes = png(text)?;
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "otpauth://totp/Authgate:a%40b.c?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Authgate&algorithm=SHA1&digits=6&period=30";

    #[test]
    fn svg_is_an_svg_document() {
        let s = svg(URI).unwrap();
        assert!(s.contains("<svg") && s.ends_with("</svg>"));
    }

    #[test]
    fn png_starts_with_the_png_signature() {
        let bytes = png(URI).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert!(png_data_uri(URI)
            .unwrap()
            .starts_with("data:image/png;base64,iVBOR"));
    }

    #[test]
    fn text_beyond_qr_capacity_is_an_error() {
        assert!(matches!(svg(&"x".repeat(5000)), Err(QrError::TooLong)));
    }
}
