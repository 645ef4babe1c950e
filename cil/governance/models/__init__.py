"""Models of the conference's sessions (CCH L.441-1-5), one module per part.

```
GovernanceSettings           the conference's working rules (quorum, proxies, majority…)
Body                         a commission, workshop or ad-hoc committee (members, rhythm);
                             the plenary is not a Body: a Meeting without body is plenary
Meeting (séance)             date, place or video link, state
 ├── AgendaItem              order, kind (information, délibération, adoption of the
 │    │                      orientations, approval of the CIA or of earlier minutes)
 │    ├── AgendaAttachment   an uploaded file or a document produced by the platform
 │    └── Decision           the vote and its result, numbered in the register
 ├── Convocation             one per representative (titulaire convened, suppléant
 │                           informed): sent, opened (tracked link), reminded
 ├── Attendance              one per member organisation: present, remote, replaced by
 │                           its suppléant, represented (proxy), excused, absent
 └── Minutes                 the procès-verbal: drafted from the record, edited, approved
                             at a later session, issued as a sealed PDF
```
"""

from cil.governance.models.attendance import *  # noqa: F403
from cil.governance.models.decisions import *  # noqa: F403
from cil.governance.models.meetings import *  # noqa: F403
from cil.governance.models.rules import *  # noqa: F403
