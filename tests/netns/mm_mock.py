'''ModemManager stand-in for python3-dbusmock (the lab's mobile tests).

Objects, interfaces and properties as ModemManager's D-Bus API documents
them (introspection/org.freedesktop.ModemManager1.*.xml): the manager at
/org/freedesktop/ModemManager1 is the ObjectManager; one modem
(Modem/0: .Modem, .Modem.Modem3gpp, .Modem.Simple, .Modem.Signal), its SIM
(SIM/0: .Sim) and the bearer Simple.Connect makes (Bearer/0: .Bearer).
Changes go out as PropertiesChanged, objects as InterfacesAdded/Removed.

Parameters: iface (the bearer's network device, default wan0), pin (the
SIM's PIN, default 1234).  The test drives it with
org.freedesktop.DBus.Mock.Scenario(name, arg) on the manager's path.
'''
import dbus

from dbusmock import MOCK_IFACE, mockobject

BUS_NAME = 'org.freedesktop.ModemManager1'
MAIN_OBJ = '/org/freedesktop/ModemManager1'
SYSTEM_BUS = True
IS_OBJECT_MANAGER = True

MM = 'org.freedesktop.ModemManager1'
MODEM = MAIN_OBJ + '/Modem/0'
SIM = MAIN_OBJ + '/SIM/0'
BEARER = MAIN_OBJ + '/Bearer/0'
ERR_PIN = MM + '.Error.MobileEquipment.IncorrectPassword'
ERR_APN = MM + '.Error.MobileEquipment.MissingOrUnknownApn'

ST = {'iface': 'wan0', 'pin': '1234', 'refuse': False, 'method': 2,
      'addr': '100.64.0.2', 'plen': 24, 'gw': '100.64.0.1', 'connects': 0, 'pins': 0}


def _obj(path):
    return mockobject.objects[path]


def _update(path, iface, props):
    '''Sets properties and sends one PropertiesChanged, as ModemManager
    does (dbusmock's UpdateProperties cannot wrap structs, dictionaries or
    object paths).'''
    o = _obj(path)
    for k, v in props.items():
        o.props[iface][k] = v
    o.EmitSignal('org.freedesktop.DBus.Properties', 'PropertiesChanged', 'sa{sv}as',
                 [iface, dbus.Dictionary(props, signature='sv'), dbus.Array([], signature='s')])


def _modem(props, iface=MM + '.Modem'):
    _update(MODEM, iface, props)


def _send_pin(pin):
    ST['pins'] += 1
    if pin != ST['pin']:
        _modem({'UnlockRetries': dbus.Dictionary({dbus.UInt32(2): dbus.UInt32(2)},
                                                 signature='uu')})
        raise dbus.exceptions.DBusException('Incorrect password', name=ERR_PIN)
    _modem({'UnlockRequired': dbus.UInt32(1), 'State': dbus.Int32(6)})


def _connect(props):
    ST['connects'] += 1
    if ST['refuse']:
        if BEARER in mockobject.objects:
            _update(BEARER, MM + '.Bearer', {
                'ConnectionError': dbus.Struct((ERR_APN, 'Missing or unknown APN'),
                                               signature='ss')})
        raise dbus.exceptions.DBusException('Missing or unknown APN', name=ERR_APN)
    if ST['method'] == 2:
        ip4 = dbus.Dictionary({'method': dbus.UInt32(2), 'address': ST['addr'],
                               'prefix': dbus.UInt32(ST['plen']), 'gateway': ST['gw']},
                              signature='sv')
    else:  # dhcp: the host's DHCP client gets the address
        ip4 = dbus.Dictionary({'method': dbus.UInt32(3)}, signature='sv')
    bprops = {
        'Interface': ST['iface'], 'Connected': True,
        'ConnectionError': dbus.Struct(('', ''), signature='ss'),
        'Ip4Config': ip4,
        'Properties': dbus.Dictionary({'apn': str(props.get('apn', ''))}, signature='sv'),
    }
    if BEARER not in mockobject.objects:
        main = _obj(MAIN_OBJ)
        main.AddObject(BEARER, MM + '.Bearer', dbus.Dictionary({
            'Interface': '', 'Connected': False,
            'ConnectionError': dbus.Struct(('', ''), signature='ss'),
            'Ip4Config': dbus.Dictionary({'method': dbus.UInt32(0)}, signature='sv'),
            'Ip6Config': dbus.Dictionary({}, signature='sv'),
            'Properties': dbus.Dictionary({}, signature='sv'),
            'Suspended': False, 'IpTimeout': dbus.UInt32(20), 'BearerType': dbus.UInt32(1),
            'ProfileId': dbus.Int32(-1), 'Multiplexed': False,
            'DisconnectRequest': False, 'ReloadStatsSupported': False,
            'Stats': dbus.Dictionary({}, signature='sv'),
        }, signature='sv'), [('Connect', '', '', ''), ('Disconnect', '', '', '')])
        main.object_manager_emit_added(BEARER)
    _update(BEARER, MM + '.Bearer', bprops)
    _modem({'Bearers': dbus.Array([dbus.ObjectPath(BEARER)], signature='o'),
            'State': dbus.Int32(11)})
    return dbus.ObjectPath(BEARER)


def _disconnect():
    if BEARER in mockobject.objects:
        _update(BEARER, MM + '.Bearer', {
            'Connected': False,
            'Ip4Config': dbus.Dictionary({'method': dbus.UInt32(0)}, signature='sv')})
    _modem({'State': dbus.Int32(8)})


def load(mock, parameters):
    ST['iface'] = parameters.get('iface', ST['iface'])
    ST['pin'] = parameters.get('pin', ST['pin'])
    mock.mm_send_pin = _send_pin
    mock.mm_connect = _connect
    mock.mm_disconnect = _disconnect
    mock.mm_update = _update


@dbus.service.method(MOCK_IFACE, in_signature='ss', out_signature='s')
def Scenario(self, name, arg):
    '''Puts the modem into a state: add (imei), nosim, pin, searching,
    good, poor, roaming, refuse (yes/no), address (A.B.C.D/P),
    method (static/dhcp), drop, count (Connect and SendPin calls).'''
    if name == 'add':
        sim = dbus.ObjectPath(SIM)
        self.AddObject(MODEM, MM + '.Modem', dbus.Dictionary({
            'Sim': sim, 'SimSlots': dbus.Array([sim], signature='o'),
            'PrimarySimSlot': dbus.UInt32(1),
            'Bearers': dbus.Array([], signature='o'),
            'SupportedCapabilities': dbus.Array([dbus.UInt32(8)], signature='u'),
            'CurrentCapabilities': dbus.UInt32(8), 'MaxBearers': dbus.UInt32(1),
            'MaxActiveBearers': dbus.UInt32(1), 'MaxActiveMultiplexedBearers': dbus.UInt32(0),
            'Manufacturer': 'Quectel', 'Model': 'EG25-G', 'Revision': 'EG25GGBR07A08M2G',
            'CarrierConfiguration': '', 'CarrierConfigurationRevision': '',
            'HardwareRevision': '10000', 'DeviceIdentifier': 'kz-lab-modem',
            'Device': '/sys/devices/lab', 'Physdev': '/sys/devices/lab',
            'Drivers': dbus.Array(['qmi_wwan'], signature='s'), 'Plugin': 'quectel',
            'PrimaryPort': 'cdc-wdm0',
            'Ports': dbus.Array([('cdc-wdm0', dbus.UInt32(6)), (ST['iface'], dbus.UInt32(2))],
                                signature='(su)'),
            'IgnoredPorts': dbus.Array([], signature='(su)'),
            'EquipmentIdentifier': arg, 'UnlockRequired': dbus.UInt32(1),
            'UnlockRetries': dbus.Dictionary({dbus.UInt32(2): dbus.UInt32(3)}, signature='uu'),
            'State': dbus.Int32(6), 'StateFailedReason': dbus.UInt32(0),
            'AccessTechnologies': dbus.UInt32(0), 'SignalQuality': dbus.Struct(
                (dbus.UInt32(0), False), signature='ub'),
            'OwnNumbers': dbus.Array([], signature='s'), 'PowerState': dbus.UInt32(3),
            'SupportedModes': dbus.Array([], signature='(uu)'),
            'CurrentModes': dbus.Struct((dbus.UInt32(8), dbus.UInt32(8)), signature='uu'),
            'SupportedBands': dbus.Array([], signature='u'),
            'CurrentBands': dbus.Array([], signature='u'),
            'SupportedIpFamilies': dbus.UInt32(7),
        }, signature='sv'), [
            ('Enable', 'b', '', ''),
            ('ListBearers', '', 'ao', 'ret = self.Get("%s", "Bearers")' % (MM + '.Modem')),
        ])
        m = _obj(MODEM)
        m.AddProperties(MM + '.Modem.Modem3gpp', dbus.Dictionary({
            'Imei': arg, 'RegistrationState': dbus.UInt32(4), 'OperatorCode': '',
            'OperatorName': '', 'EnabledFacilityLocks': dbus.UInt32(0),
            'SubscriptionState': dbus.UInt32(0), 'EpsUeModeOperation': dbus.UInt32(0),
            'Pco': dbus.Array([], signature='(ubay)'),
            'InitialEpsBearer': dbus.ObjectPath('/'),
            'InitialEpsBearerSettings': dbus.Dictionary({}, signature='sv'),
            'PacketServiceState': dbus.UInt32(0),
            'NetworkRejection': dbus.Dictionary({}, signature='sv'),
            'Nr5gRegistrationSettings': dbus.Dictionary({}, signature='sv'),
        }, signature='sv'))
        m.AddProperties(MM + '.Modem.Signal', dbus.Dictionary({
            'Rate': dbus.UInt32(0), 'RssiThreshold': dbus.UInt32(0),
            'ErrorRateThreshold': False,
            'Cdma': dbus.Dictionary({}, signature='sv'), 'Evdo': dbus.Dictionary({}, signature='sv'),
            'Gsm': dbus.Dictionary({}, signature='sv'), 'Umts': dbus.Dictionary({}, signature='sv'),
            'Lte': dbus.Dictionary({}, signature='sv'), 'Nr5g': dbus.Dictionary({}, signature='sv'),
        }, signature='sv'))
        m.AddMethods(MM + '.Modem.Signal', [
            ('Setup', 'u', '', 'objects["%s"].mm_update("%s", "%s", {"Rate": args[0]})'
             % (MAIN_OBJ, MODEM, MM + '.Modem.Signal')),
        ])
        m.AddMethods(MM + '.Modem.Simple', [
            ('Connect', 'a{sv}', 'o', 'ret = objects["%s"].mm_connect(args[0])' % MAIN_OBJ),
            ('Disconnect', 'o', '', 'objects["%s"].mm_disconnect()' % MAIN_OBJ),
            ('GetStatus', '', 'a{sv}', 'ret = {}'),
        ])
        self.AddObject(SIM, MM + '.Sim', dbus.Dictionary({
            'Active': True, 'SimIdentifier': '8981100000000000001', 'Imsi': '440100000000001',
            'Eid': '', 'OperatorIdentifier': '44010', 'OperatorName': 'KZ Mobile',
            'EmergencyNumbers': dbus.Array([], signature='s'),
            'PreferredNetworks': dbus.Array([], signature='(su)'),
            'Gid1': dbus.Array([], signature='y'), 'Gid2': dbus.Array([], signature='y'),
            'SimType': dbus.UInt32(1), 'EsimStatus': dbus.UInt32(0),
            'Removability': dbus.UInt32(1),
        }, signature='sv'), [
            ('SendPin', 's', '', 'objects["%s"].mm_send_pin(args[0])' % MAIN_OBJ),
        ])
        self.object_manager_emit_added(SIM)
        self.object_manager_emit_added(MODEM)
    elif name == 'nosim':
        _modem({'State': dbus.Int32(-1), 'StateFailedReason': dbus.UInt32(2),
                'Sim': dbus.ObjectPath('/')})
    elif name == 'pin':
        _modem({'State': dbus.Int32(2), 'UnlockRequired': dbus.UInt32(2),
                'Sim': dbus.ObjectPath(SIM), 'StateFailedReason': dbus.UInt32(0)})
    elif name == 'searching':
        _modem({'State': dbus.Int32(7), 'UnlockRequired': dbus.UInt32(1),
                'SignalQuality': dbus.Struct((dbus.UInt32(0), True), signature='ub')})
        _modem({'RegistrationState': dbus.UInt32(2)}, MM + '.Modem.Modem3gpp')
    elif name in ('good', 'poor', 'roaming'):
        q, rsrp = (80, -75.0) if name != 'poor' else (8, -117.0)
        _modem({'SignalQuality': dbus.Struct((dbus.UInt32(q), True), signature='ub'),
                'AccessTechnologies': dbus.UInt32(1 << 14), 'UnlockRequired': dbus.UInt32(1)},)
        _modem({'Lte': dbus.Dictionary({'rsrp': rsrp, 'rsrq': -9.5, 'snr': 13.0,
                                        'rssi': -60.0}, signature='sv')},
               MM + '.Modem.Signal')
        _modem({'RegistrationState': dbus.UInt32(5 if name == 'roaming' else 1),
                'OperatorName': 'KZ Mobile', 'OperatorCode': '44010'},
               MM + '.Modem.Modem3gpp')
        if _obj(MODEM).Get(MM + '.Modem', 'State') < 8:
            _modem({'State': dbus.Int32(8)})
    elif name == 'refuse':
        ST['refuse'] = arg == 'yes'
    elif name == 'address':
        a, p = arg.split('/')
        ST['addr'], ST['plen'] = a, int(p)
    elif name == 'method':
        ST['method'] = 3 if arg == 'dhcp' else 2
    elif name == 'drop':
        _disconnect()
    elif name == 'count':
        return '%d %d' % (ST['connects'], ST['pins'])
    return 'ok'
