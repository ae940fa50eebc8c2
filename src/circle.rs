//! The domain: circles and their areas. Nothing here knows about HTTP or the
//! Functions host; it only decides which radii make sense.

use std::f64::consts::PI;
use std::fmt;

use azure_functions_rocket::text::Number;

/// A circle whose radius is a finite number >= 0 and whose area is finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circle {
    radius: f64,
}

/// Why a number is not the radius of a [`Circle`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CircleError {
    NotFinite(f64),
    Negative(f64),
    AreaOverflows(f64),
}

impl Circle {
    pub fn new(radius: f64) -> Result<Circle, CircleError> {
        if !radius.is_finite() {
            return Err(CircleError::NotFinite(radius));
        }
        if radius < 0.0 {
            return Err(CircleError::Negative(radius));
        }
        if !area_of(radius).is_finite() {
            return Err(CircleError::AreaOverflows(radius));
        }
        // -0.0 passes the checks above; adding 0.0 makes it a plain 0.0 so
        // that callers never see a negative zero radius echoed back.
        Ok(Circle {
            radius: radius + 0.0,
        })
    }

    pub fn radius(&self) -> f64 {
        self.radius
    }

    pub fn area(&self) -> f64 {
        area_of(self.radius)
    }
}

fn area_of(radius: f64) -> f64 {
    PI * radius * radius
}

impl fmt::Display for CircleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CircleError::NotFinite(_) => write!(f, "radius must be a finite number"),
            CircleError::Negative(r) => {
                write!(f, "radius must not be negative, got {}", Number(*r))
            }
            CircleError::AreaOverflows(r) => {
                write!(f, "radius {} is too large: its area overflows", Number(*r))
            }
        }
    }
}

impl std::error::Error for CircleError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_is_pi_r_squared() {
        assert_eq!(Circle::new(2.5).unwrap().area(), 19.634954084936208);
        assert_eq!(Circle::new(1.0).unwrap().area(), PI);
        assert_eq!(Circle::new(0.0).unwrap().area(), 0.0);
    }

    #[test]
    fn negative_zero_is_zero() {
        let circle = Circle::new(-0.0).unwrap();
        assert!(circle.radius().is_sign_positive());
        assert_eq!(circle.area(), 0.0);
    }

    #[test]
    fn tiny_radii_are_valid() {
        assert_eq!(Circle::new(f64::MIN_POSITIVE).unwrap().area(), 0.0);
        assert!(Circle::new(1e-150).unwrap().area() > 0.0);
    }

    #[test]
    fn rejects_negative_radii() {
        assert_eq!(Circle::new(-1.0), Err(CircleError::Negative(-1.0)));
        assert_eq!(
            Circle::new(-f64::MIN_POSITIVE),
            Err(CircleError::Negative(-f64::MIN_POSITIVE))
        );
    }

    #[test]
    fn rejects_nan_and_infinities() {
        assert!(matches!(
            Circle::new(f64::NAN),
            Err(CircleError::NotFinite(_))
        ));
        assert!(matches!(
            Circle::new(f64::INFINITY),
            Err(CircleError::NotFinite(_))
        ));
        assert!(matches!(
            Circle::new(f64::NEG_INFINITY),
            Err(CircleError::NotFinite(_))
        ));
    }

    #[test]
    fn rejects_radii_whose_area_overflows() {
        // sqrt(f64::MAX / PI) is about 7.56e153: the largest radius with a finite area.
        assert!(Circle::new(7.5e153).is_ok());
        assert_eq!(
            Circle::new(7.6e153),
            Err(CircleError::AreaOverflows(7.6e153))
        );
        assert_eq!(
            Circle::new(f64::MAX),
            Err(CircleError::AreaOverflows(f64::MAX))
        );
    }

    #[test]
    fn messages_say_what_was_wrong() {
        assert_eq!(
            Circle::new(-2.0).unwrap_err().to_string(),
            "radius must not be negative, got -2"
        );
        assert_eq!(
            Circle::new(-1e300).unwrap_err().to_string(),
            "radius must not be negative, got -1e300"
        );
        assert_eq!(
            Circle::new(-5e-324).unwrap_err().to_string(),
            "radius must not be negative, got -5e-324"
        );
        assert!(
            Circle::new(1e200)
                .unwrap_err()
                .to_string()
                .contains("overflows")
        );
        assert!(
            Circle::new(f64::NAN)
                .unwrap_err()
                .to_string()
                .contains("finite")
        );
    }
}
