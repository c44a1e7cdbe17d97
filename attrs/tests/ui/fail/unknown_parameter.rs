use faultlock_attrs as faultlock;

#[faultlock::releases(fault_lock(vmf))]
fn f(fault: *mut u8) {
    let _ = fault;
}

fn main() {}
