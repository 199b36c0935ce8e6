package jsrun

import "github.com/dop251/goja"

// bootstrapSource runs in every fresh runtime before user code. It does the
// structural part of the lockdown that is simplest in JavaScript (Proxies,
// property surgery); everything it needs from Go arrives through h, a local
// the user's code can never reach. Intrinsics are captured up front so a
// script that overwrites Reflect or Proxy cannot subvert the traps later.
const bootstrapSource = `(function (h) {
	'use strict';
	const construct = Reflect.construct;
	const apply = Reflect.apply;
	const defineProperty = Object.defineProperty;
	const getPrototypeOf = Object.getPrototypeOf;
	const hasInstance = Function.prototype[Symbol.hasInstance];
	const hide = (o, k, v) => defineProperty(o, k, { value: v, writable: true, enumerable: false, configurable: true });

	// Replaces constructor C by proxy P everywhere a script can find it.
	// goja cannot run instanceof against a Proxy, so C gets its own
	// Symbol.hasInstance that tests against C (or against a subclass, when
	// inherited through "class X extends P").
	const substitute = (C, P) => {
		hide(C.prototype, 'constructor', P);
		defineProperty(C, Symbol.hasInstance, {
			value: function (v) { return apply(hasInstance, this === P ? C : this, [v]); },
			configurable: true,
		});
	};

	// Code generation from strings is the classic sandbox escape: block eval
	// and every function constructor, including those only reachable as
	// (async () => {}).constructor and friends.
	const blockCodegen = (C) => {
		const P = new Proxy(C, { apply: h.noCodegen, construct: h.noCodegen });
		substitute(C, P);
		return P;
	};
	hide(globalThis, 'Function', blockCodegen(Function));
	blockCodegen(getPrototypeOf(async function () {}).constructor);
	blockCodegen(getPrototypeOf(function* () {}).constructor);
	hide(globalThis, 'eval', h.noEval);
	delete globalThis.GoError;

	// BigInt arithmetic is one Go call that neither the deadline nor the memory watch can stop
	// (2n ** 10n ** 9n, 1n << 2n ** 40n). Literals are refused at compile; without these, a
	// script has no other way to make a BigInt.
	delete globalThis.BigInt;
	delete globalThis.BigInt64Array;
	delete globalThis.BigUint64Array;
	for (const m of ['getBigInt64', 'getBigUint64', 'setBigInt64', 'setBigUint64']) {
		delete DataView.prototype[m];
	}

	// Buffers allocate their full size in one Go call: check it first.
	const buffers = ['ArrayBuffer', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array',
		'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array'];
	for (const name of buffers) {
		const C = globalThis[name];
		if (typeof C !== 'function') continue;
		const bpe = C.BYTES_PER_ELEMENT || 1;
		const P = new Proxy(C, {
			construct(target, args, newTarget) {
				h.checkBuffer(name, bpe, args);
				return construct(target, args, newTarget);
			},
		});
		substitute(C, P);
		hide(globalThis, name, P);
	}

	// Iterators driven by Go loops (Array.from, spread, new Set, Promise.all).
	h.checkpointNext(getPrototypeOf([][Symbol.iterator]()));
	h.checkpointNext(getPrototypeOf(''[Symbol.iterator]()));
	h.checkpointNext(getPrototypeOf(new Map()[Symbol.iterator]()));
	h.checkpointNext(getPrototypeOf(new Set()[Symbol.iterator]()));
	h.checkpointNext(getPrototypeOf(/x/g[Symbol.matchAll]('')));
})`

// bootstrapProgram is compiled once; goja programs are immutable and can be
// run by many runtimes at once.
var bootstrapProgram = goja.MustCompile("sandbox-bootstrap.js", bootstrapSource, true)
