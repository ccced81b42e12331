// The dual-package hazard (the ES module and the CommonJS build in one process) stops the process when the second
// build loads. The real case (both builds of the packed package in one process) is compat/dual-load.
import { checkSingleBuild } from '../../lib/single-build.js';

const esm = { format: 'ES module', where: 'the ES module build (dist/)' } as const;
const cjs = { format: 'CommonJS', where: '/app/node_modules/nest-identity-cors/dist/cjs/single-build.js' } as const;

describe('checkSingleBuild', () => {
  it('lets the same build load again (Jest module registries, several entry points)', () => {
    const registry = {};
    checkSingleBuild(registry, esm);
    expect(() => checkSingleBuild(registry, esm)).not.toThrow();
  });

  it('stops the CommonJS build loading after the ES module build, naming both and what to do', () => {
    const registry = {};
    checkSingleBuild(registry, esm);
    expect(() => checkSingleBuild(registry, cjs)).toThrow(
      /loaded twice in one process: as an ES module \(the ES module build \(dist\/\)\) and as CommonJS \(\/app\/node_modules\/nest-identity-cors\/dist\/cjs\/single-build\.js\), ES module first.*Load it one way only/,
    );
  });

  it('stops the ES module build loading after the CommonJS build', () => {
    const registry = {};
    checkSingleBuild(registry, cjs);
    expect(() => checkSingleBuild(registry, esm)).toThrow(/loaded twice in one process.*CommonJS first/);
  });
});
